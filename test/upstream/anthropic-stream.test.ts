// The Anthropic stream reader takes a text delta spelled as Anthropic spells it without JSON.parse. Whatever the
// event, it must decide exactly what parsing it would: an event with a space appended is the same JSON but never
// matches the template, so it is the reference.
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/core/random.js';
import { anthropicDialect } from '../../src/upstream/anthropic.js';
import type { StreamReader, StreamStep } from '../../src/upstream/dialect.js';

const delta = (text: string, index: number | string = 0): string =>
  `{"type":"content_block_delta","index":${index},"delta":{"type":"text_delta","text":${JSON.stringify(text)}}}`;
const START = JSON.stringify({ type: 'message_start', message: { model: 'claude-x', usage: { input_tokens: 3, output_tokens: 1 } } });
const STOP = '{"type":"message_stop"}';

function run(reader: StreamReader, events: string[]): { steps: StreamStep[]; end: unknown } {
  const steps = events.map((data) => reader.event({ data, event: undefined }));
  return { steps, end: reader.finish() };
}

/** The same events, each parsed in full (a trailing space is valid JSON the template never matches). */
function reference(events: string[]): { steps: StreamStep[]; end: unknown } {
  return run(
    anthropicDialect.streamReader(),
    events.map((data) => `${data} `),
  );
}

describe('the Anthropic text delta fast path', () => {
  it('reads text deltas, escapes included, as the full parse does', () => {
    const events = [START, ...['Hel', 'lo "you"', '\\', '\n\t', 'caf\u00e9 \u{1f600}', '\u2028\u0000', ''].map((text) => delta(text)), delta('!', 3), STOP];
    const fast = run(anthropicDialect.sharedStreamReaders()(), events);
    expect(fast).toEqual(reference(events));
    expect(fast.end).toMatchObject({ ok: true, reply: { content: 'Hello "you"\\\n\tcaf\u00e9 \u{1f600}\u2028\u0000!' } });
  });

  it('leaves any other spelling to the full parse: whitespace, more fields, other delta types, bad tokens', () => {
    const cases = [
      delta('x').replace('"delta":{', '"delta": {'),
      delta('x').replace('}}', ',"extra":1}}'),
      delta('x').replace('text_delta', 'thinking_delta'),
      delta('x', '"0"'),
      delta('x', '01'),
      delta('x').replace('"x"', '123'),
      delta('x').replace('"x"', '"a\tb"'),
      delta('x').replace('"x"', '"a\\qb"'),
      delta('x').slice(0, -1),
      `${delta('x')}}`,
      '{"type":"error","error":{"type":"overloaded_error","message":"busy"}}',
    ];
    for (const data of cases) {
      const events = [START, delta('a'), data, delta('b'), STOP];
      expect(run(anthropicDialect.sharedStreamReaders()(), events), data).toEqual(reference(events));
    }
  });

  it('decides every event as the full parse does (seeded fuzz: 1,000 streams, edited events among them, sharing one template)', () => {
    const random = createRandom(7);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    const PIECES = ['a', ' ', 'é', '😀', '"', '\\', '\n', '\u0000', '{', '}', ':', ',', '"text":"y"', '\\u0041'];
    const EDITS = ['{', '}', '"', ':', ',', ' ', '\\', '0', '-', '.5', 'e3', '"text":"z",', 'null'];
    const text = (): string => Array.from({ length: Math.floor(random() * 5) }, () => pick(PIECES)).join('');
    const readers = anthropicDialect.sharedStreamReaders();
    let edited = 0;
    for (let stream = 0; stream < 1000; stream++) {
      const index = pick([0, 1, 12, -1, 1.5, 2e3]);
      const events = [START];
      for (let i = 0; i < 12; i++) {
        let data = delta(text(), index);
        if (random() < 0.15) {
          const at = Math.floor(random() * (data.length + 1));
          data = data.slice(0, at) + pick(EDITS) + data.slice(at + (random() < 0.5 ? 1 : 0));
          edited++;
        }
        events.push(data);
      }
      events.push(STOP);
      expect(run(readers(), events)).toEqual(reference(events));
    }
    expect(edited).toBeGreaterThan(1000);
  });
});
