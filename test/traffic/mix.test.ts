import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TrafficConfig } from '../../src/plan/schema.js';
import { createRandom } from '../../src/core/random.js';
import { createTrafficMix, DEFAULT_PROMPTS, sampledShareOf, TrafficError } from '../../src/traffic/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'bluegreen-mix-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const samples = path.join(dir, 'samples.jsonl');
writeFileSync(
  samples,
  Array.from({ length: 50 }, (_, i) => JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: `sampled ${i}` }], user: `s-${i}` })).join('\n'),
);

const config = (traffic: Partial<TrafficConfig>): TrafficConfig => ({ rate: 10, max_in_flight: 100, stream: 0, max_tokens: 256, ...traffic });
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('createTrafficMix', () => {
  it('splits by share and streams the configured share', async () => {
    const mix = createTrafficMix(
      config({ stream: 0.5, synthetic: { share: 0.7, prompts: ['synthetic prompt'] }, sampled: { share: 0.3, file: samples, sample_rate: 1 } }),
      createRandom(4),
      { bufferSize: 64 },
    );
    await mix.ready();
    const n = 10_000;
    let sampled = 0;
    let streamed = 0;
    for (let i = 0; i < n; i++) {
      // Let the replay buffer refill now and then, as the event loop does between arrivals.
      if (i % 20 === 0) await turn();
      const request = mix.next();
      if (request.source === 'sampled') sampled++;
      if (request.stream) streamed++;
    }
    const stats = mix.stats();
    await mix.close();
    // Every draw for sampled traffic either got one or fell back: together they follow the share.
    expect(Math.abs((stats.sampled + stats.fallbacks) / n - 0.3)).toBeLessThan(0.015);
    expect(stats.sampled).toBe(sampled);
    expect(stats.sampled).toBeGreaterThan(0);
    expect(stats.synthetic + stats.sampled).toBe(n);
    expect(Math.abs(streamed / n - 0.5)).toBeLessThan(0.015);
  });

  it('streams none at 0 and all at 1', async () => {
    for (const stream of [0, 1]) {
      const mix = createTrafficMix(config({ stream }), createRandom(1));
      await mix.ready();
      const streams = new Set(Array.from({ length: 200 }, () => mix.next().stream));
      expect([...streams]).toEqual([stream === 1]);
      await mix.close();
    }
  });

  it('uses the built-in prompts when no source is configured, and max_tokens', async () => {
    const mix = createTrafficMix(config({ max_tokens: 77 }), createRandom(2));
    await mix.ready();
    for (let i = 0; i < 100; i++) {
      const request = mix.next();
      expect(request.source).toBe('synthetic');
      expect(request.maxTokens).toBe(77);
      expect(DEFAULT_PROMPTS).toContain(request.messages.at(-1)?.content);
    }
    expect(mix.warning()).toBeUndefined();
    await mix.close();
  });

  it('falls back to synthetic when the replay buffer is momentarily empty', async () => {
    const mix = createTrafficMix(config({ sampled: { share: 1, file: samples, sample_rate: 1 } }), createRandom(3), { bufferSize: 8 });
    await mix.ready();
    const sources = Array.from({ length: 20 }, () => mix.next().source);
    expect(sources.slice(0, 8)).toEqual(new Array(8).fill('sampled'));
    expect(sources.slice(8)).toEqual(new Array(12).fill('synthetic'));
    expect(mix.stats()).toMatchObject({ sampled: 8, fallbacks: 12, synthetic: 12 });
    await mix.close();
  });

  it('is reproducible from the seed', async () => {
    const run = async () => {
      const mix = createTrafficMix(config({ stream: 0.3, synthetic: { users: 50 } }), createRandom(9));
      await mix.ready();
      const requests = Array.from({ length: 200 }, () => mix.next());
      await mix.close();
      return requests;
    };
    expect(await run()).toEqual(await run());
  });

  it('refuses next() before ready()', () => {
    expect(() => createTrafficMix(config({}), createRandom(1)).next()).toThrow(/ready\(\)/);
  });

  it('rejects ready() with a TrafficError naming a bad file', async () => {
    const empty = path.join(dir, 'empty.jsonl');
    writeFileSync(empty, '');
    const sampledMix = createTrafficMix(config({ sampled: { share: 1, file: empty, sample_rate: 1 } }), createRandom(1));
    await expect(sampledMix.ready()).rejects.toThrow(`sampled traffic file ${empty} is empty`);
    await sampledMix.close();
    const prompts = path.join(dir, 'nope.txt');
    const promptMix = createTrafficMix(config({ synthetic: { share: 1, prompts } }), createRandom(1));
    await expect(promptMix.ready()).rejects.toBeInstanceOf(TrafficError);
    await promptMix.close();
  });

  it('reports skipped sampled lines as a warning', async () => {
    const file = path.join(dir, 'some-bad.jsonl');
    writeFileSync(file, `oops\n${JSON.stringify({ messages: [{ role: 'user', content: 'x' }] })}\n`);
    const mix = createTrafficMix(config({ sampled: { share: 1, file, sample_rate: 1 } }), createRandom(1));
    await mix.ready();
    expect(mix.warning()).toBe(`${file}: 1 line(s) skipped, the first at line 1: not JSON (${errorOf('oops')})`);
    expect(mix.stats().skippedLines).toBe(1);
    await mix.close();
  });

  it('warns when replay fails after the start, and carries on with synthetic requests', async () => {
    const file = path.join(dir, 'vanishing.jsonl');
    // More lines than the buffer holds: a smaller file is kept in memory after its first pass, never reopened.
    writeFileSync(file, `${JSON.stringify({ messages: [{ role: 'user', content: 'x' }] })}\n`.repeat(10));
    const mix = createTrafficMix(config({ sampled: { share: 1, file, sample_rate: 1 } }), createRandom(1), { bufferSize: 4 });
    await mix.ready();
    rmSync(file);
    // Drain the buffer until the reader, reopening the file for its next pass, finds it gone.
    for (let i = 0; i < 10_000 && mix.warning() === undefined; i++) {
      mix.next();
      await turn();
    }
    expect(mix.warning()).toMatch(/cannot read sampled traffic file .*vanishing.jsonl: no such file; sending synthetic requests instead/);
    expect(mix.next().source).toBe('synthetic');
    await mix.close();
  });

  it('does not open the sampled file when its share is 0', async () => {
    const mix = createTrafficMix(
      config({ synthetic: { share: 1 }, sampled: { share: 0, file: path.join(dir, 'absent.jsonl'), sample_rate: 1 } }),
      createRandom(1),
    );
    await mix.ready();
    expect(mix.next().source).toBe('synthetic');
    await mix.close();
  });
});

describe('sampledShareOf', () => {
  const file = '/x.jsonl';
  it('follows the shares, normalised, and fills in a missing one', () => {
    expect(sampledShareOf(config({}))).toBe(0);
    expect(sampledShareOf(config({ synthetic: { share: 1 } }))).toBe(0);
    expect(sampledShareOf(config({ sampled: { file, sample_rate: 1 } }))).toBe(1);
    expect(sampledShareOf(config({ synthetic: { share: 0.7 }, sampled: { share: 0.3, file, sample_rate: 1 } }))).toBeCloseTo(0.3);
    expect(sampledShareOf(config({ synthetic: { share: 0.6 }, sampled: { file, sample_rate: 1 } }))).toBeCloseTo(0.4);
    expect(sampledShareOf(config({ synthetic: {}, sampled: { share: 0.2, file, sample_rate: 1 } }))).toBeCloseTo(0.2);
    expect(sampledShareOf(config({ synthetic: { share: 2 }, sampled: { share: 2, file, sample_rate: 1 } }))).toBeCloseTo(0.5);
    expect(sampledShareOf(config({ synthetic: { share: 0 }, sampled: { share: 0, file, sample_rate: 1 } }))).toBe(0);
  });
});

function errorOf(text: string): string {
  try {
    JSON.parse(text);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
}
