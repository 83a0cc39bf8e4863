import { mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exposedGc } from '../helpers/heap.js';
import { createRandom } from '../../src/core/random.js';
import { until } from '../helpers/until.js';
import { createSampledSource, TrafficError, type SampledSource } from '../../src/traffic/index.js';
import type { ChatRequest } from '../../src/upstream/types.js';

const dir = mkdtempSync(path.join(tmpdir(), 'bluegreen-sampled-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeLines(name: string, lines: readonly string[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, lines.map((line) => `${line}\n`).join(''));
  return file;
}

const body = (i: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: `request ${i}` }], ...extra });

/** n request lines, numbered from 0. */
const bodies = (n: number) => Array.from({ length: n }, (_, i) => body(i));

const indexOf = (request: ChatRequest) => Number(String(request.messages.at(-1)?.content).split(' ')[1]);

/** Takes n requests, waiting on available() (not on time) whenever the buffer runs dry. */
async function take(source: SampledSource, n: number, each?: (request: ChatRequest) => void): Promise<ChatRequest[]> {
  const out: ChatRequest[] = [];
  let count = 0;
  while (count < n) {
    const request = source.next();
    if (!request) {
      await source.available();
      continue;
    }
    count++;
    if (each) each(request);
    else out.push(request);
  }
  return out;
}

const open = (file: string, extra: Partial<Parameters<typeof createSampledSource>[0]> = {}) =>
  createSampledSource({ file, sampleRate: 1, maxTokens: 256, random: createRandom(1), ...extra });

describe('createSampledSource: requests', () => {
  it('drops model, stream and ids, keeps messages and every other parameter', async () => {
    const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }];
    const file = writeLines('params.jsonl', [
      JSON.stringify({
        model: 'gpt-4o',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'Hello!' },
          { role: 'user', content: [{ type: 'text', text: 'where is my order?' }] },
        ],
        temperature: 0.2,
        top_p: 0.9,
        max_tokens: 300,
        stop: ['\n\n'],
        response_format: { type: 'json_object' },
        tools,
        tool_choice: 'auto',
        stream: true,
        stream_options: { include_usage: true },
        user: 'u-1',
        metadata: { conversation_id: 'c-1' },
      }),
    ]);
    const source = open(file);
    await source.ready();
    const [request] = await take(source, 1);
    await source.close();
    expect(request).toEqual({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'Hello!' },
        { role: 'user', content: [{ type: 'text', text: 'where is my order?' }] },
      ],
      params: { temperature: 0.2, top_p: 0.9, stop: ['\n\n'], response_format: { type: 'json_object' }, tools, tool_choice: 'auto' },
      stream: false,
      maxTokens: 300,
      stickyKey: 'u-1',
      source: 'sampled',
    });
  });

  it('takes the sticky key from user, then metadata.conversation_id, metadata.user_id, conversation_id', async () => {
    const file = writeLines('sticky.jsonl', [
      body(0, { user: 'u-0', metadata: { conversation_id: 'c-0' } }),
      body(1, { metadata: { conversation_id: 'c-1', user_id: 'u-1' } }),
      body(2, { metadata: { user_id: 'u-2' } }),
      body(3, { conversation_id: 'c-3' }),
      body(4, { user: 42 }),
      body(5),
    ]);
    const source = open(file);
    const requests = await take(source, 6);
    await source.close();
    expect(requests.map((request) => request.stickyKey)).toEqual(['u-0', 'c-1', 'u-2', 'c-3', '42', undefined]);
    expect(requests.every((request) => !('conversation_id' in request.params) && !('metadata' in request.params))).toBe(true);
  });

  it('uses max_completion_tokens, else the configured max_tokens', async () => {
    const file = writeLines('max.jsonl', [body(0, { max_completion_tokens: 99 }), body(1), body(2, { max_tokens: 'lots' })]);
    const source = open(file, { maxTokens: 128 });
    const requests = await take(source, 3);
    await source.close();
    expect(requests.map((request) => request.maxTokens)).toEqual([99, 128, 128]);
    expect(requests.every((request) => !('max_tokens' in request.params) && !('max_completion_tokens' in request.params))).toBe(true);
  });

  it('replays the file in a loop', async () => {
    const file = writeLines('loop.jsonl', [body(0), body(1), body(2)]);
    const source = open(file);
    const requests = await take(source, 10);
    expect(requests.map(indexOf)).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2, 0]);
    expect(source.passes()).toBeGreaterThanOrEqual(3);
    await source.close();
  });

  it('keeps a small file in memory after its first pass: a low sample_rate no longer rereads it in a busy loop', async () => {
    const file = writeLines('small-rare.jsonl', [body(0), body(1)]);
    const source = open(file, { sampleRate: 0.01 });
    await source.ready();
    rmSync(file); // never opened again
    const requests = await take(source, 20);
    expect(new Set(requests.map(indexOf))).toEqual(new Set([0, 1]));
    // About 100 lines go by per request kept: passes are counted as the cache wraps.
    expect(source.passes()).toBeGreaterThan(200);
    expect(source.error()).toBeUndefined();
    // Each request is a copy: one the caller changes is not served again.
    requests[0]!.messages.push({ role: 'user', content: 'changed' });
    expect((await take(source, 4)).every((request) => request.messages.length === 1)).toBe(true);
    await source.close();
  });

  it('gives up on a cached draw after a bounded number of lines at a vanishing sample_rate', async () => {
    const source = open(writeLines('small-never.jsonl', [body(0)]), { sampleRate: 1e-12 });
    await source.available();
    for (let i = 0; i < 5; i++) source.next(); // the first pass may have kept none: each call is bounded
    expect(source.next()).toBeUndefined();
    await source.close();
  });

  it('skips and counts bad lines, naming the first', async () => {
    const file = writeLines('bad.jsonl', [
      body(0),
      '{"model": "gpt-4o", messages',
      '[1, 2]',
      '{"messages": []}',
      '',
      '{"messages":[{"content":"x"}]}',
      body(1),
    ]);
    const source = open(file);
    await source.ready();
    const requests = await take(source, 4);
    expect(requests.map(indexOf)).toEqual([0, 1, 0, 1]);
    expect(source.skipped()).toBe(4); // counted once, not on every pass
    expect(source.firstProblem()).toMatch(/^line 2: not JSON/);
    await source.close();
  });

  it('skips and counts a line nested thousands of levels deep, instead of running out of stack on it', async () => {
    const deep = `{"messages":[{"role":"user","content":"x"}],"tools":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    const file = writeLines('deep.jsonl', [body(0), deep, body(1)]);
    const source = open(file);
    await source.ready();
    const requests = await take(source, 4);
    expect(requests.map(indexOf)).toEqual([0, 1, 0, 1]);
    expect(source.skipped()).toBe(1);
    expect(source.firstProblem()).toBe('line 2: nested deeper than 1000 levels');
    await source.close();
  });

  it('ships an example file with no bad line and mostly sticky requests', async () => {
    const file = fileURLToPath(new URL('../../rollouts/samples/traffic.jsonl', import.meta.url));
    const source = open(file);
    const requests = await take(source, 40);
    expect(source.skipped()).toBe(0);
    await source.close();
    expect(requests.filter((request) => request.stickyKey !== undefined).length).toBeGreaterThan(30);
    expect(requests.some((request) => request.messages.length > 2)).toBe(true);
    expect(requests.some((request) => request.messages[0]?.role === 'system')).toBe(true);
    expect(requests.every((request) => !('model' in request.params) && !('stream' in request.params))).toBe(true);
  });
});

describe('createSampledSource: errors', () => {
  it('rejects ready() for an empty or blank file', async () => {
    for (const [name, text] of [
      ['empty.jsonl', ''],
      ['blank.jsonl', '\n  \n\n'],
    ] as const) {
      const file = path.join(dir, name);
      writeFileSync(file, text);
      const source = open(file);
      await expect(source.ready()).rejects.toThrow(`sampled traffic file ${file} is empty`);
      await expect(source.ready()).rejects.toBeInstanceOf(TrafficError);
      expect(source.next()).toBeUndefined();
      await source.close();
    }
  });

  it('rejects ready() when no line is usable, with the first bad line number', async () => {
    const file = writeLines('allbad.jsonl', ['{"messages": [}', 'plain text']);
    const source = open(file);
    await expect(source.ready()).rejects.toThrow(/has no usable request: 2 line\(s\) skipped, the first at line 1: not JSON/);
    expect(source.error()).toBeInstanceOf(TrafficError);
    await source.close();
  });

  it('names a missing file', async () => {
    const file = path.join(dir, 'missing.jsonl');
    const source = open(file);
    await expect(source.ready()).rejects.toThrow(`cannot read sampled traffic file ${file}: no such file`);
    await source.close();
  });

  it('can be closed before it is ready', async () => {
    const source = open(writeLines('close.jsonl', [body(0)]));
    await source.close();
    await expect(source.ready()).rejects.toThrow(/closed/);
    expect(source.next()).toBeUndefined();
  });
});

describe('createSampledSource: pinned before the tidy18 split', () => {
  it('reads a first line that starts with a byte-order mark', async () => {
    const file = path.join(dir, 'bom.jsonl');
    writeFileSync(file, `\uFEFF${body(0)}\n${body(1)}\n`);
    const source = open(file);
    expect((await take(source, 3)).map(indexOf)).toEqual([0, 1, 0]);
    expect(source.skipped()).toBe(0);
    await source.close();
  });

  it('skips a line longer than the limit, naming it', async () => {
    const file = writeLines('long.jsonl', [body(0), body(1, { padding: 'x'.repeat(500) }), body(2)]);
    const source = open(file, { maxLineBytes: 200 });
    expect((await take(source, 4)).map(indexOf)).toEqual([0, 2, 0, 2]);
    expect(source.skipped()).toBe(1);
    expect(source.firstProblem()).toMatch(/^line 2: longer than 200 bytes/);
    await source.close();
  });

  it('replays a file larger than its buffer from the file, in order, holding at most the buffer', async () => {
    const file = writeLines('over-capacity.jsonl', bodies(10));
    const source = open(file, { capacity: 4 });
    await source.ready();
    expect(source.buffered()).toBe(4);
    const seen: number[] = [];
    await take(source, 25, (request) => {
      expect(source.buffered()).toBeLessThanOrEqual(4);
      seen.push(indexOf(request));
    });
    expect(seen).toEqual([...Array.from({ length: 10 }, (_, i) => i), ...Array.from({ length: 10 }, (_, i) => i), 0, 1, 2, 3, 4]);
    expect(source.passes()).toBeGreaterThanOrEqual(2);
    await source.close();
  });

  it('skips bad lines in later passes without counting them again', async () => {
    const file = writeLines('over-capacity-bad.jsonl', [body(0), 'not json', body(1), body(2), body(3)]);
    const source = open(file, { capacity: 2 });
    expect((await take(source, 9)).map(indexOf)).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 0]);
    expect(source.skipped()).toBe(1);
    expect(source.firstProblem()).toMatch(/^line 2: not JSON/);
    await source.close();
  });

  /** A source over a 3-line file (more than its buffer of 2) emptied after ready, drained until replay fails. */
  async function emptiedWhileReplaying(name: string): Promise<{ file: string; source: SampledSource }> {
    const file = writeLines(name, [body(0), body(1), body(2)]);
    const source = open(file, { capacity: 2 });
    await source.ready();
    writeFileSync(file, '');
    // One request taken whenever the buffer is full: the reader moves on only then, so it fails with one left.
    await until(() => {
      if (source.buffered() === 2) source.next();
      return source.error() !== undefined;
    }, 'the replay to fail');
    return { file, source };
  }

  it('fails when the file becomes empty while replaying: next() serves nothing more', async () => {
    const { file, source } = await emptiedWhileReplaying('emptied.jsonl');
    expect(source.error()).toBeInstanceOf(TrafficError);
    expect(source.error()?.message).toBe(`sampled traffic file ${file} became empty while replaying`);
    expect(source.buffered()).toBe(1);
    expect(source.next()).toBeUndefined();
    await source.close();
  });

  // A consumer looping on available() and next() must not spin once replay has failed with requests still buffered.
  it('rejects available() once replay has failed, requests still buffered or not', async () => {
    const { source } = await emptiedWhileReplaying('emptied-available.jsonl');
    try {
      await expect(source.available()).rejects.toThrow(/became empty while replaying/);
    } finally {
      await source.close();
    }
  });

  it('fails with an error naming the file when it vanishes while replaying', async () => {
    const file = writeLines('vanished.jsonl', bodies(6));
    const source = open(file, { capacity: 2 });
    await source.ready();
    rmSync(file);
    await until(() => {
      source.next();
      return source.error() !== undefined;
    }, 'the replay to fail');
    expect(source.error()?.message).toMatch(`cannot read sampled traffic file ${file}: no such file`);
    await source.close();
  });

  it('rejects an available() waiting from the start, and any later one, once closed', async () => {
    const file = writeLines('close-waiting.jsonl', [body(0)]);
    const source = open(file);
    const waiting = source.available().then(
      () => 'resolved',
      (error: unknown) => (error as Error).message,
    ); // nothing is read yet: this one waits
    await source.close();
    expect(await waiting).toBe(`sampled traffic source for ${file} is closed`);
    await expect(source.available()).rejects.toThrow(`sampled traffic source for ${file} is closed`);
    expect(source.next()).toBeUndefined();
    expect(source.buffered()).toBe(0);
    await source.close(); // twice is harmless
  });

  it('draws the same requests from the same seed at a sample_rate below 1', async () => {
    const file = writeLines('seeded.jsonl', bodies(40));
    const draw = async () => {
      const source = open(file, { sampleRate: 0.3, random: createRandom(11), capacity: 8 });
      const requests = (await take(source, 30)).map(indexOf);
      await source.close();
      return requests;
    };
    const first = await draw();
    expect(await draw()).toEqual(first);
    expect(first).toEqual([6, 15, 16, 17, 21, 30, 31, 34, 35, 1, 5, 6, 10, 13, 15, 22, 30, 31, 34, 6, 10, 11, 15, 24, 29, 30, 38, 39, 3, 6]);
  });
});

describe('createSampledSource: sampling and a large file', () => {
  it('keeps about sample_rate of the lines', async () => {
    const file = writeLines(
      'half.jsonl',
      Array.from({ length: 10_000 }, (_, i) => body(i)),
    );
    const source = open(file, { sampleRate: 0.5, random: createRandom(7), capacity: 64 });
    // Indices rise through one pass and drop when the file starts again: count the first pass.
    let previous = -1;
    let firstPass = 0;
    let wrapped = false;
    await take(source, 8000, (request) => {
      const index = indexOf(request);
      if (index <= previous) wrapped = true;
      if (!wrapped) firstPass++;
      previous = index;
    });
    await source.close();
    expect(wrapped).toBe(true);
    // 3 sigma of binomial(10000, 0.5) is 150.
    expect(firstPass).toBeGreaterThan(4850);
    expect(firstPass).toBeLessThan(5150);
  });

  describe('a file of 200,000 lines', () => {
    const lines = 200_000;
    let file = '';
    beforeAll(() => {
      file = path.join(dir, 'large.jsonl');
      const fd = openSync(file, 'w');
      const padding = 'My order arrived damaged and I would like a replacement or a refund, whichever is faster. '.repeat(2);
      for (let start = 0; start < lines; start += 5000) {
        let chunk = '';
        for (let i = start; i < start + 5000; i++) {
          const system = i % 3 === 0 ? [{ role: 'system', content: 'You are a support assistant.' }] : [];
          chunk += `${JSON.stringify({ model: 'gpt-4o', messages: [...system, { role: 'user', content: `request ${i} ${padding}` }], temperature: 0.3, max_tokens: 200, user: `u-${i % 977}` })}\n`;
        }
        writeSync(fd, chunk);
      }
      closeSync(fd);
    });

    it('replays it past the end while holding only a bounded buffer', async () => {
      const size = statSync(file).size;
      expect(size).toBeGreaterThan(50 * 1024 * 1024);
      const gc = exposedGc();
      gc();
      const before = process.memoryUsage().heapUsed;

      const source = open(file, { capacity: 512 });
      await source.ready();
      // Give the reader many event-loop turns with nobody consuming: it must fill the buffer and then pause.
      const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
      for (let i = 0; i < 2000 && source.buffered() < 512; i++) await turn();
      expect(source.buffered()).toBe(512);
      for (let i = 0; i < 200; i++) await turn();
      expect(source.buffered()).toBe(512);
      let maxBuffered = 0;
      let previous = -1;
      let wraps = 0;
      let bad = 0;
      await take(source, lines + 20_000, (request) => {
        maxBuffered = Math.max(maxBuffered, source.buffered() + 1);
        const index = indexOf(request);
        if (index < previous) wraps++;
        else if (index !== previous + 1) bad++;
        previous = index;
        if ('model' in request.params || request.maxTokens !== 200 || !request.stickyKey) bad++;
      });
      gc();
      const growth = process.memoryUsage().heapUsed - before;
      await source.close();

      expect(bad).toBe(0);
      expect(wraps).toBe(1);
      expect(previous).toBe(20_000 - 1);
      expect(maxBuffered).toBeLessThanOrEqual(512);
      // The whole file would be > 50 MB on the heap; a bounded reader holds a few.
      expect(growth).toBeLessThan(size / 5);
    });
  });
});
