// The server-sent events parser the stream readers use (src/upstream/sse-parser.ts): events split across feeds
// at any point, the three line breaks (a CRLF split between feeds too), comments, multi-line data, event types,
// fields spelled without the space or the colon, and its bound on what it holds. Checked against the WHATWG
// rules as eventsource-parser implements them, on every cut of a stream holding all of these.
import { createParser } from 'eventsource-parser';
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/core/random.js';
import { SseParser, type SseEvent } from '../../src/upstream/sse-parser.js';

interface Read {
  events: SseEvent[];
  tooLong?: number;
}

function parse(pieces: string[], maxHeld?: number, end = true): Read {
  const read: Read = { events: [] };
  const parser = new SseParser(
    {
      // The parser refills one object: a copy of each event is what a sink may keep.
      onEvent: (event) => read.events.push({ ...event }),
      onTooLong: (bound) => (read.tooLong = bound),
    },
    maxHeld,
  );
  for (const piece of pieces) parser.feed(piece);
  if (end) parser.end();
  return read;
}

/** What eventsource-parser reads from the same pieces (ids dropped: no reader uses them). */
function reference(pieces: string[]): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = createParser({ onEvent: ({ event, data }) => events.push({ event, data }) });
  for (const piece of pieces) parser.feed(piece);
  parser.feed('\n\n');
  return events;
}

function cut(text: string, at: number[]): string[] {
  const pieces: string[] = [];
  let from = 0;
  for (const to of [...at, text.length]) {
    pieces.push(text.slice(from, to));
    from = to;
  }
  return pieces;
}

const STREAM = [
  ': a comment first\n',
  'data: {"a":1}\n\n',
  'event: message_start\ndata: {"type":"message_start"}\n\n',
  'data: first line\r\ndata: second line\r\n\r\n',
  'data:no space\rdata:  two spaces\r\r',
  'id: 7\nretry: 100\nunknown: x\ndata\n\n',
  'event:\ndata: typed empty\n\n',
  'event: ignored\n\n',
  'data:a:b: c\nevent: x:y\nunknown:a:b\n\n',
  ':data: a comment\ndat:a\ndata: after\n\n',
  'data: [DONE]\n\n',
  'data: last, not closed',
].join('');

describe('SseParser', () => {
  it('reads every field and line break as the WHATWG rules do', () => {
    expect(parse([STREAM]).events).toEqual([
      { event: undefined, data: '{"a":1}' },
      { event: 'message_start', data: '{"type":"message_start"}' },
      { event: undefined, data: 'first line\nsecond line' },
      { event: undefined, data: 'no space\n two spaces' },
      { event: undefined, data: '' },
      { event: undefined, data: 'typed empty' },
      { event: 'x:y', data: 'a:b: c' },
      { event: undefined, data: 'after' },
      { event: undefined, data: '[DONE]' },
      { event: undefined, data: 'last, not closed' },
    ]);
    expect(parse([STREAM]).events).toEqual(reference([STREAM]));
  });

  it('reads the same events whatever the cuts between feeds (CRLF split between feeds included)', () => {
    const whole = parse([STREAM]).events;
    for (let at = 1; at < STREAM.length; at++) expect(parse(cut(STREAM, [at])).events).toEqual(whole);
    const random = createRandom(24);
    for (let run = 0; run < 300; run++) {
      const cuts = new Set<number>();
      const n = 1 + Math.floor(random() * 20);
      for (let i = 0; i < n; i++) cuts.add(1 + Math.floor(random() * (STREAM.length - 1)));
      const pieces = cut(
        STREAM,
        [...cuts].sort((a, b) => a - b),
      );
      expect(parse(pieces).events).toEqual(whole);
      expect(parse(pieces).events).toEqual(reference(pieces));
    }
  });

  it('drops a byte order mark starting the stream, whole or after empty feeds, on every cut; keeps one later', () => {
    // eventsource-parser keeps the mark (a first field named "\uFEFFdata"): the oracle reads the stream without it.
    const stream = `data: first\n\n${STREAM}`;
    const marked = `\uFEFF${stream}`;
    const want = reference([stream]);
    expect(want[0]).toEqual({ event: undefined, data: 'first' });
    expect(parse([marked]).events).toEqual(want);
    expect(parse(['', '', marked]).events).toEqual(want);
    for (let at = 1; at < marked.length; at++) expect(parse(cut(marked, [at])).events).toEqual(want);
    // Only the stream's first character: a mark later is the text's (here the start of an unknown field's name).
    expect(parse(['data: a\n\n', '\uFEFFdata: b\n\ndata: \uFEFFc\n\n']).events).toEqual([
      { event: undefined, data: 'a' },
      { event: undefined, data: '\uFEFFc' },
    ]);
  });

  it('dispatches an event only at its blank line, or at the end', () => {
    expect(parse(['data: x\n'], undefined, false).events).toEqual([]);
    expect(parse(['data: x\n', '\n'], undefined, false).events).toEqual([{ event: undefined, data: 'x' }]);
    expect(parse(['data: x'], undefined, true).events).toEqual([{ event: undefined, data: 'x' }]);
  });

  it('stops when a line not ended passes its bound, even fed a character at a time', () => {
    const read = parse([...`data: ${'a'.repeat(40)}`], 30, false);
    expect(read.tooLong).toBe(30);
    expect(read.events).toEqual([]);
  });

  it("stops when an event's data lines pass the bound together, each line under it", () => {
    const read = parse(['data: aaaaaaaaaa\n'.repeat(5)], 30, false);
    expect(read.tooLong).toBe(30);
    // Nothing is read after it stopped.
    expect(parse(['data: aaaaaaaaaa\n'.repeat(5), '\ndata: b\n\n'], 30).events).toEqual([]);
  });

  it('holds events under the bound', () => {
    const read = parse(['data: aaaaaaaaaa\n\n'.repeat(20)], 30);
    expect(read.tooLong).toBeUndefined();
    expect(read.events).toHaveLength(20);
  });
});
