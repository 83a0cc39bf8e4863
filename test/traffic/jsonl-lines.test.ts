// Sampled traffic files are split into lines as bytes with a cap per line: a file without line breaks (a
// JSON array, a binary file) used to grow one string inside readline until V8 threw "Invalid string length"
// as an uncaught exception (a stack trace from `validate`, an internal error mid-rollout).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/core/random.js';
import { checkSampledFile, createSampledSource } from '../../src/traffic/index.js';
import { jsonlLines, type JsonlLine } from '../../src/traffic/jsonl-lines.js';
import { tempDir } from '../helpers/plans.js';

async function collect(chunks: readonly string[], max?: number): Promise<JsonlLine[]> {
  async function* input() {
    for (const chunk of chunks) yield Buffer.from(chunk, 'utf8');
  }
  const out: JsonlLine[] = [];
  for await (const line of jsonlLines(input(), max)) out.push(line);
  return out;
}

const body = (text: string) => JSON.stringify({ messages: [{ role: 'user', content: text }] });

describe('jsonlLines', () => {
  it('splits on \\n, \\r\\n and a lone \\r, across chunk boundaries', async () => {
    expect(await collect(['a\r', '\nb\n', 'c\rd', '\n\ne'])).toEqual([{ text: 'a' }, { text: 'b' }, { text: 'c' }, { text: 'd' }, { text: '' }, { text: 'e' }]);
  });

  it('keeps a multibyte character split between chunks whole', async () => {
    const bytes = Buffer.from('é€\n', 'utf8');
    async function* input() {
      for (let i = 0; i < bytes.length; i++) yield bytes.subarray(i, i + 1);
    }
    const out: JsonlLine[] = [];
    for await (const line of jsonlLines(input())) out.push(line);
    expect(out).toEqual([{ text: 'é€' }]);
  });

  it('reports a line over the cap by its length, and goes on with the next', async () => {
    expect(await collect(['ok\n', 'x'.repeat(6), 'x'.repeat(6), '\nfine'], 10)).toEqual([{ text: 'ok' }, { tooLong: 12 }, { text: 'fine' }]);
    expect(await collect(['x'.repeat(11)], 10)).toEqual([{ tooLong: 11 }]);
    // The cap is on the line, not its ending.
    expect(await collect(['x'.repeat(10), '\r\n'], 10)).toEqual([{ text: 'x'.repeat(10) }]);
    expect(await collect(['x'.repeat(11), '\r\n'], 10)).toEqual([{ tooLong: 11 }]);
  });

  // leftalone11: lines were cut on \n only, and a lone \r split afterwards: a file whose lines end in \r alone
  // (old Mac line endings) was one "line" as a whole, so one over the cap was refused as "a file without line breaks?".
  it('cuts lines ending in a lone \r as they stream in, so a file of them is not one line over the cap', async () => {
    expect(await collect(['aaaa\rbbbb\r', 'cccc\rdd', 'dd\r'], 6)).toEqual([{ text: 'aaaa' }, { text: 'bbbb' }, { text: 'cccc' }, { text: 'dddd' }]);
    // \r\n is one break, even when the chunk ends between the two.
    expect(await collect(['a\r', '\n', '\nb\r\r\n'], 6)).toEqual([{ text: 'a' }, { text: '' }, { text: 'b' }, { text: '' }]);
  });
});

describe('a sampled file whose lines end in a lone \r, larger than the cap', () => {
  it('is read line by line: every line usable', async () => {
    const file = path.join(tempDir(), 'cr.jsonl');
    writeFileSync(file, Array.from({ length: 20 }, (_, i) => body(`line ${i}`)).join('\r') + '\r');
    expect(await checkSampledFile(file, 64, 200)).toEqual({ usable: 20, skipped: 0, keyCollision: 0 });
  });
});

describe('a sampled file with a line over the cap', () => {
  const dir = tempDir();
  const file = path.join(dir, 'long.jsonl');
  writeFileSync(file, `\uFEFF${body('first')}\r\n${'[' + body('x'.repeat(300)) + ']'}\r\n${body('last')}\r\n`);

  it('is counted as skipped by the check, with the line and the cap', async () => {
    expect(await checkSampledFile(file, 64, 200)).toEqual({
      usable: 2,
      skipped: 1,
      firstProblem: 'line 2: longer than 200 bytes (a file without line breaks?)',
      keyCollision: 0,
    });
  });

  it('is skipped by the replay, which serves the other lines', async () => {
    const source = createSampledSource({ file, sampleRate: 1, maxTokens: 64, random: createRandom(1), maxLineBytes: 200 });
    await source.ready();
    const texts = [source.next(), source.next()].map((request) => request?.messages[0]?.content);
    expect(texts).toEqual(['first', 'last']);
    expect(source.skipped()).toBe(1);
    expect(source.firstProblem()).toBe('line 2: longer than 200 bytes (a file without line breaks?)');
    await source.close();
  });

  it('refuses a file that is one line over the cap as having no usable request', async () => {
    const single = path.join(dir, 'single.jsonl');
    writeFileSync(single, 'a'.repeat(1000));
    await expect(checkSampledFile(single, 64, 200)).rejects.toThrow(/has no usable request: 1 line\(s\) skipped, the first at line 1: longer than 200 bytes/);
  });
});
