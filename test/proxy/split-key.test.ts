// A key split across a stream's chunks, at every position and into three pieces, on seeded random chunkings:
// never more than HOLD_FROM - 1 of its leading characters reach the client, everything else arrives intact and
// in order, and a stream cut while a key's start is held back sends none of it.
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/core/random.js';
import { createRedactor, REDACTED } from '../../src/core/redact.js';
import { HOLD_FROM, SplitKeys } from '../../src/proxy/split-key.js';

const KEY = 'sk-upstream-secret-0123456789abcdef';
const redactor = createRedactor([KEY]);
const keys = new SplitKeys([KEY], redactor);

/** What the client receives for these chunks: each pass as it comes, then the end (or nothing, when cut). */
function through(chunks: string[], options: { cut?: boolean } = {}): { out: string; perChunk: string[] } {
  const stream = keys.stream();
  const perChunk = chunks.map((chunk) => stream.pass(Buffer.from(chunk, 'utf8')).toString('utf8'));
  const last = options.cut ? undefined : stream.finish();
  return { out: perChunk.join('') + (last?.toString('utf8') ?? ''), perChunk };
}

/** The text with the key redacted, allowing the few leading characters a short tail may have let out. */
function redactedForms(text: string): string[] {
  return Array.from({ length: HOLD_FROM }, (_, written) => text.split(KEY).join(KEY.slice(0, written) + REDACTED));
}

function splitAt(text: string, cuts: number[]): string[] {
  const points = [0, ...cuts, text.length];
  return points.slice(1).map((end, i) => text.slice(points[i], end));
}

describe('a key split across stream chunks', () => {
  const before = 'data: {"choices":[{"delta":{"content":"your key is ';
  const after = ', é€ done"}}]}\n\n';
  const text = before + KEY + after;
  const at = before.length;

  it('is redacted at every split position, the rest intact and in order', () => {
    for (let i = 1; i < KEY.length; i++) {
      const { out, perChunk } = through([text.slice(0, at + i), text.slice(at + i)]);
      expect(out, `split ${i}`).toBe(text.split(KEY).join((i < HOLD_FROM ? KEY.slice(0, i) : '') + REDACTED));
      // What comes before the key is never held back.
      expect(perChunk[0]?.startsWith(before)).toBe(true);
      if (i >= HOLD_FROM) expect(perChunk[0]).toBe(before);
    }
  });

  it('is redacted when split into three pieces anywhere', () => {
    for (let i = 1; i < KEY.length - 1; i++) {
      for (let j = i + 1; j < KEY.length; j++) {
        const { out } = through(splitAt(text, [at + i, at + j]));
        expect(out, `split ${i}, ${j}`).not.toContain(KEY.slice(0, HOLD_FROM));
        expect(redactedForms(text), `split ${i}, ${j}`).toContain(out);
      }
    }
  });

  it('is redacted on seeded random chunkings of a stream quoting it several times (multi-byte text intact)', () => {
    const random = createRandom(7);
    const stream = Array.from({ length: 6 }, (_, n) => `data: {"n":${n},"content":"é ${n % 2 ? KEY : 'sk-up'} ✓"}\n\n`).join('');
    const bytes = Buffer.from(stream, 'utf8');
    for (let round = 0; round < 300; round++) {
      const cuts: number[] = [];
      for (let at = 1 + Math.floor(random() * 20); at < bytes.length; at += 1 + Math.floor(random() * 40)) cuts.push(at);
      const pieces = [0, ...cuts].map((start, i) => bytes.subarray(start, cuts[i] ?? bytes.length));
      const sink = keys.stream();
      const out = Buffer.concat([...pieces.map((piece) => sink.pass(piece)), sink.finish() ?? Buffer.alloc(0)]).toString('utf8');
      expect(out).not.toContain(KEY.slice(0, HOLD_FROM + 2));
      expect(out.replace(/s?k?-?\[redacted\]/g, REDACTED)).toBe(redactor.text(stream));
    }
  });

  it('sends nothing of a held key start when the stream is cut', () => {
    for (let i = HOLD_FROM; i < KEY.length; i++) {
      const { out } = through([text.slice(0, at + i)], { cut: true });
      expect(out).toBe(before);
    }
  });

  it('lets text that only looks like a key’s start through unchanged, at the next chunk or at the end', () => {
    // "sk-up" then something else: held for one chunk, then sent as it was.
    expect(through(['say sk-up', 'side down']).out).toBe('say sk-upside down');
    expect(through(['say sk-up', 'side down']).perChunk).toEqual(['say ', 'sk-upside down']);
    // A stream ending with 4 to 11 characters of a key's start: under SECRET_PREFIX_LENGTH, not a key.
    expect(through(['ends with sk-upstream']).out).toBe('ends with sk-upstream');
    // 12 or more: counted as the key, as in a whole answer.
    expect(through(['ends with sk-upstream-s']).out).toBe(`ends with ${REDACTED}`);
    // Short tails go out at once.
    expect(through(['ask', 'ed']).perChunk).toEqual(['ask', 'ed']);
  });

  it('takes the fast path for chunks that can neither quote a key nor end with its start', () => {
    // Fewer than 12 of a key's first characters inside ordinary text (a model "sk-upstre") are not a quote of it.
    for (const chunk of ['data: {"x":1}\n\n', 'plain', 'ends in k', '', 'model sk-upstre, ok\n\n', 'sk-upstream is 11 characters\n'])
      expect(keys.needsCare(Buffer.from(chunk))).toBe(false);
    for (const chunk of [
      's',
      'a sk',
      'a sk-',
      'a sk-u',
      'a sk-upstream-s',
      `quotes ${KEY} whole`,
      'quotes sk-upstream-se only (12 and more count)',
      'a sk-upstream-secret-0123456789abcde',
    ])
      expect(keys.needsCare(Buffer.from(chunk))).toBe(true);
    expect(new SplitKeys([undefined, 'short'], createRedactor([])).needsCare(Buffer.from('s'))).toBe(false);
  });
});
