// GET /metrics renders prom-client's registry at most once a second: a client scraping in a loop costs one render
// a second, and scrapes arriving together share one render (one snapshot of the figures). A fake clock.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createQualityChecker } from '../../src/analysis/quality.js';
import { ProxyMetrics } from '../../src/proxy/metrics.js';
import { Registry } from 'prom-client';
import { createPrometheus, PROMETHEUS_CONTENT_TYPE, SCRAPE_MAX_AGE_MS } from '../../src/proxy/prometheus.js';
import type { UpstreamResult } from '../../src/upstream/types.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { runProxy, simPlan } from './helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

function setup() {
  let now = 1_000_000;
  const metrics = new ProxyMetrics({ prices: { blue: undefined, green: undefined }, quality: createQualityChecker(undefined), now: () => now });
  let snapshots = 0;
  const snapshot = metrics.snapshot.bind(metrics);
  metrics.snapshot = () => {
    snapshots++;
    return snapshot();
  };
  const prometheus = createPrometheus(
    metrics,
    () => ({ greenWeight: 0.25, mirror: 0 }),
    () => now,
  );
  const answer = (): void => {
    const at = metrics.started('green', false);
    const result: UpstreamResult = { arm: 'green', model: 'g', ok: true, status: 200, content: 'fine', latencyMs: 20, attempts: 1, stream: false };
    metrics.finished(result, 'routed', at);
  };
  return { prometheus, answer, advance: (ms: number) => (now += ms), renders: () => snapshots };
}

const greenRequests = (text: string) => /bluegreen_proxy_requests_total\{arm="green",path="chat"\} (\d+)/.exec(text)?.[1];

describe('/metrics rendering', () => {
  it('loads prom-client again at the next scrape when a load failed, instead of failing every scrape after', async () => {
    const metrics = new ProxyMetrics({ prices: { blue: undefined, green: undefined }, quality: createQualityChecker(undefined), now: () => 0 });
    let loads = 0;
    const load = () => (++loads === 1 ? Promise.reject(new Error('EMFILE: too many open files')) : import('prom-client'));
    const prometheus = createPrometheus(
      metrics,
      () => ({ greenWeight: 0, mirror: 0 }),
      () => 0,
      ['chat'],
      load,
    );
    await expect(prometheus.text()).rejects.toThrow(/EMFILE/);
    expect(greenRequests(await prometheus.text())).toBe('0');
    expect(loads).toBe(2);
  });

  it.skipIf(process.platform !== 'linux')('loads prom-client again for real once a scrape ran out of file descriptors (review20)', () => {
    // In a process of its own, out of descriptors at its first scrape: Node keeps a failed import() for good, so the
    // default loader must be one that tries again (a require). Its own process: a test worker must not run out.
    const dist = (file: string) => JSON.stringify(pathToFileURL(path.join(ROOT, 'dist', file)).href);
    const script = `
      import { closeSync, openSync } from 'node:fs';
      const { createPrometheus } = await import(${dist('proxy/prometheus.js')});
      const { ProxyMetrics } = await import(${dist('proxy/metrics.js')});
      const { createQualityChecker } = await import(${dist('analysis/quality.js')});
      const metrics = new ProxyMetrics({ prices: { blue: undefined, green: undefined }, quality: createQualityChecker(undefined), now: () => 0 });
      const prometheus = createPrometheus(metrics, () => ({ greenWeight: 0, mirror: 0 }), () => 0);
      const scrape = () => prometheus.text().then((text) => text.includes('bluegreen_proxy_requests_total') ? 'ok' : 'empty', (error) => error.code ?? String(error));
      const fds = [];
      try { for (;;) fds.push(openSync('/dev/null', 'r')); } catch {}
      const first = await scrape();
      for (const fd of fds) closeSync(fd);
      console.log(JSON.stringify({ first, second: await scrape() }));`;
    const run = spawnSync('sh', ['-c', `ulimit -n 256 && exec "${process.execPath}" --input-type=module -e "$0"`, script], { encoding: 'utf8' });
    expect(JSON.parse(run.stdout || '{}'), run.stderr).toEqual({ first: 'EMFILE', second: 'ok' });
  });

  it("says prom-client's content type, known before prom-client loads at the first scrape", () => {
    expect(setup().prometheus.contentType).toBe(PROMETHEUS_CONTENT_TYPE);
    expect(PROMETHEUS_CONTENT_TYPE).toBe(Registry.PROMETHEUS_CONTENT_TYPE);
  });

  it('serves one render for a second, then renders the figures anew', async () => {
    const { prometheus, answer, advance, renders } = setup();
    answer();
    const first = await prometheus.text();
    expect(greenRequests(first)).toBe('1');
    expect(renders()).toBe(1);
    for (let i = 0; i < 50; i++) {
      answer();
      expect(await prometheus.text()).toBe(first);
    }
    expect(renders()).toBe(1);
    advance(SCRAPE_MAX_AGE_MS - 1);
    expect(await prometheus.text()).toBe(first);
    advance(1);
    expect(greenRequests(await prometheus.text())).toBe('51');
    expect(renders()).toBe(2);
  });

  it('scrapes arriving together share one render', async () => {
    const { prometheus, answer, renders } = setup();
    answer();
    const texts = await Promise.all(Array.from({ length: 20 }, () => prometheus.text()));
    expect(new Set(texts).size).toBe(1);
    expect(renders()).toBe(1);
    expect(texts[0]).toContain('bluegreen_proxy_route_green_weight 0.25');
  });

  it('a clock set back renders anew rather than serving an old text for longer', async () => {
    const { prometheus, answer, advance, renders } = setup();
    await prometheus.text();
    answer();
    advance(-5_000);
    expect(greenRequests(await prometheus.text())).toBe('1');
    expect(renders()).toBe(2);
  });
});

// Found in session 27: the proxy aged the text on its wall clock, so one set back (NTP, a resumed VM) rendered every
// scrape until it caught up, and one set forward rendered early. On its steady clock, a wall step changes nothing.
describe('/metrics of a proxy whose wall clock steps', () => {
  it('serves one render for a second of its steady clock, whichever way the wall clock stepped', async () => {
    const clock = new FakeClock();
    const running = await runProxy(simPlan(), { now: () => clock.now(), steadyNow: () => clock.steadyNow() });
    const scrape = async () => greenRequests(await (await fetch(`${running.proxy.url}/metrics`)).text());
    const answer = () => {
      const { metrics } = running.proxy;
      const result: UpstreamResult = { arm: 'green', model: 'g', ok: true, status: 200, content: 'fine', latencyMs: 20, attempts: 1, stream: false };
      metrics.finished(result, 'routed', metrics.started('green', false));
    };
    expect(await scrape()).toBe('0');
    answer();
    clock.jumpWall(-3_600_000);
    expect(await scrape()).toBe('0');
    clock.jumpWall(7_200_000);
    expect(await scrape()).toBe('0');
    await clock.advance(SCRAPE_MAX_AGE_MS);
    expect(await scrape()).toBe('1');
  });
});

describe('/metrics text', () => {
  // Pinned before tidy18 split createPrometheus: every metric, label and value of a scrape after a few results.
  it('renders every counter, gauge and histogram with their labels', async () => {
    const metrics = new ProxyMetrics({ prices: { blue: undefined, green: undefined }, quality: createQualityChecker(undefined), now: () => 1_000_000 });
    const prometheus = createPrometheus(
      metrics,
      () => ({ greenWeight: 0.25, mirror: 0.5 }),
      () => 1_000_000,
      ['chat', 'responses'],
    );
    const result = (arm: 'blue' | 'green', extra: Partial<UpstreamResult> = {}): UpstreamResult => ({
      arm,
      model: arm === 'blue' ? 'b' : 'g',
      ok: true,
      status: 200,
      content: 'fine',
      latencyMs: 120,
      attempts: 1,
      stream: false,
      ...extra,
    });
    metrics.finished(result('blue', { usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15 } }), 'routed', metrics.started('blue', false));
    metrics.finished(result('green', { stream: true, ttftMs: 40, latencyMs: 700 }), 'routed', metrics.started('green', false), 'responses');
    metrics.finished(result('green', { ok: false, status: 500, failure: 'server_error', latencyMs: 3000 }), 'routed', metrics.started('green', false));
    metrics.finished(result('green', { ok: false, failure: 'client_abort', latencyMs: 50 }), 'routed', metrics.started('green', false), 'responses');
    metrics.finished(result('green'), 'mirror', metrics.started('green', false));
    metrics.started('blue', false); // still running
    metrics.mirrorDropped();
    metrics.passedThrough();
    metrics.reject('overloaded');
    expect(await prometheus.text()).toMatchSnapshot();
  });
});
