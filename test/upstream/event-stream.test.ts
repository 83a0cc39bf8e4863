// The proxy's server-sent event parser gives exactly the events eventsource-parser gives, however the text is
// spelled and cut into chunks: known cases, then a seeded fuzz against eventsource-parser itself.
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/core/random.js';
import { EventStreamParser } from '../../src/upstream/event-stream.js';

/** The events a parser gives for `chunks`, then a blank line (as the stream's end feeds one), as plain copies. */
function eventsOf(make: (onEvent: (message: EventSourceMessage) => void) => { feed(text: string): void }, chunks: string[]): EventSourceMessage[] {
  const events: EventSourceMessage[] = [];
  const parser = make((message) => events.push({ id: message.id, event: message.event, data: message.data }));
  for (const chunk of chunks) parser.feed(chunk);
  parser.feed('\n\n');
  return events;
}

const ours = (chunks: string[]) => eventsOf((onEvent) => new EventStreamParser(onEvent), chunks);
const reference = (chunks: string[]) => eventsOf((onEvent) => createParser({ onEvent }), chunks);

describe('EventStreamParser', () => {
  it('reads data, event and id fields, comments, several data lines, and every line ending', () => {
    const text = 'data: {"a":1}\n\n: a comment\nevent: ping\ndata:x\r\ndata:  two\r\rid: 7\ndata\n\nevent\nid\ndata: last\n\nretry: 5\nunknown: 1\ndata: y';
    const events = ours([text]);
    expect(events).toEqual([
      { id: undefined, event: undefined, data: '{"a":1}' },
      { id: undefined, event: 'ping', data: 'x\n two' },
      { id: '7', event: undefined, data: '' },
      { id: '', event: undefined, data: 'last' },
      { id: undefined, event: undefined, data: 'y' },
    ]);
    expect(events).toEqual(reference([text]));
  });

  it('reads an event cut anywhere across chunks, a CRLF cut between its CR and LF included', () => {
    const text = 'event: a\r\ndata: one\r\n\r\ndata: two\n\n';
    for (let at = 0; at <= text.length; at++) {
      const chunks = [text.slice(0, at), text.slice(at)];
      expect(ours(chunks), JSON.stringify(chunks)).toEqual([
        { id: undefined, event: 'a', data: 'one' },
        { id: undefined, event: undefined, data: 'two' },
      ]);
    }
  });

  it('gives the events eventsource-parser gives (seeded fuzz: 3,000 streams cut into random chunks)', () => {
    const random = createRandom(20);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    const PIECES = [
      'data:',
      'data: ',
      'data: a',
      'data: ',
      'data:  ',
      'data',
      'event:',
      'event: ',
      'event',
      'id:',
      'id: ',
      'id',
      ':',
      ': comment',
      'retry: 5',
      'retry',
      'dat',
      'Data:',
      'x:',
      '\n',
      '\n',
      '\n\n',
      '\r',
      '\r\n',
      '\r\n\r\n',
      '\u00ef\u00bb\u00bf',
      '\ufeff',
      '\0',
      ' ',
      'a',
      '{"b":2}',
      '[DONE]',
      'é',
    ];
    let events = 0;
    for (let stream = 0; stream < 3000; stream++) {
      const text = Array.from({ length: 1 + Math.floor(random() * 60) }, () => pick(PIECES)).join('');
      const chunks: string[] = [];
      for (let at = 0; at < text.length;) {
        const next = at + Math.floor(random() * 12);
        chunks.push(text.slice(at, next));
        at = next;
      }
      const expected = reference(chunks);
      events += expected.length;
      expect(ours(chunks), JSON.stringify(chunks)).toEqual(expected);
    }
    // Most streams carry events, not only lines the parsers drop.
    expect(events).toBeGreaterThan(2000);
  });
});
