// GET /metrics: the proxy's figures in Prometheus text format, through prom-client on a registry of its own.
// Counters are read from the ProxyMetrics snapshot at scrape time (one source for the rollout and Prometheus);
// latency and TTFT are histograms kept as bucket counts per arm and formatted at scrape time.
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type { Counter, Gauge, Metric, Registry } from 'prom-client';
import type { ArmName } from '../plan/plan.js';
import { ARMS } from '../plan/plan.js';
import { FAILURE_CLASSES, type UpstreamFailureClass, type UpstreamResult } from '../upstream/types.js';
import { REJECT_REASONS, type ProxyFigures, type ProxyMetrics, type SplitPathName } from './metrics.js';
import type { EffectiveRoute } from './route.js';
import { ArmHistogram } from './arm-histogram.js';

const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120];
const TTFT_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];

/**
 * How long a rendered scrape is served again. Rendering the registry costs about as much CPU as two or three
 * proxied requests (0.2-0.5 ms on a 2-vCPU VM) and /metrics is outside max_concurrency, so a client scraping in a
 * loop could take a core; with this, a storm costs one render a second. Prometheus scrapes every 10-60 s.
 */
export const SCRAPE_MAX_AGE_MS = 1000;

/** prom-client's Registry.PROMETHEUS_CONTENT_TYPE, known before prom-client loads (test/proxy/metrics-scrape.test.ts). */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * prom-client (CommonJS) by require, not import(): Node's ESM loader keeps a failed import() for good, so an import
 * that failed once (EMFILE) fails at every later scrape too, while require tries the files again.
 */
function requirePromClient(): Promise<typeof PromClient> {
  return Promise.resolve().then(() => createRequire(import.meta.url)('prom-client') as typeof PromClient);
}

export interface PrometheusExport {
  contentType: string;
  /** The scrape's text: rendered at most once per SCRAPE_MAX_AGE_MS; scrapes meanwhile share that text. */
  text(): Promise<string>;
}

/**
 * `steadyNow`: the proxy's steady clock, which the scrape's text ages on (a wall clock set back an hour rendered
 * every scrape for that hour). `paths`: the split paths the proxy serves (chat, and the Responses API where it
 * serves it), each a value of the requests' and failures' `path` label, so an operator sees a green failing on one
 * API only. `loadProm` loads prom-client (a test's may fail).
 */
export function createPrometheus(
  metrics: ProxyMetrics,
  route: () => EffectiveRoute,
  steadyNow: () => number = () => performance.now(),
  paths: readonly SplitPathName[] = ['chat'],
  loadProm: () => Promise<typeof PromClient> = requirePromClient,
): PrometheusExport {
  const figures = new ScrapeFigures(metrics);
  const byPath = new PathCounts(paths);
  // Observed per result on plain arrays; prom-client only formats them at scrape time.
  const latency = new ArmHistogram('bluegreen_proxy_request_duration_seconds', 'Upstream request time per arm, to the last byte', LATENCY_BUCKETS);
  const ttft = new ArmHistogram('bluegreen_proxy_ttft_seconds', 'Time to first token of streamed answers per arm', TTFT_BUCKETS);
  metrics.onResult((result, _kind, _quality, _stage, path = 'chat') => {
    latency.observe(result.arm, result.latencyMs / 1000);
    if (result.ok && result.ttftMs !== undefined) ttft.observe(result.arm, result.ttftMs / 1000);
    byPath.count(result, path);
  });
  // prom-client (with the OpenTelemetry API it loads, about 90 files) loads at the first scrape, not at every start.
  // A load that failed (out of file descriptors, a file being replaced by a deploy) is tried again at the next scrape:
  // remembered, it would fail every scrape until the proxy restarts (requirePromClient says why it is a require).
  let made: Promise<Registry> | undefined;
  const loadRegistry = (): Promise<Registry> =>
    (made ??= loadProm()
      .then((prom) => {
        const registry = new prom.Registry();
        const add = registering(prom, registry);
        registerPathCounters(add, byPath);
        registerFigureCounters(add, figures);
        registerGauges(add, figures, route);
        registry.registerMetric(latency as unknown as Metric);
        registry.registerMetric(ttft as unknown as Metric);
        return registry;
      })
      .catch((error: unknown) => {
        made = undefined;
        throw error;
      }));
  return { contentType: PROMETHEUS_CONTENT_TYPE, text: cachedScrape(loadRegistry, figures, steadyNow) };
}

/** Requests and failures by class, per split path and arm: counted per result as it is recorded (the figures' snapshot has arms only). */
class PathCounts {
  readonly counts = {} as Record<SplitPathName, Record<ArmName, { requests: number; failures: Record<UpstreamFailureClass, number> }>>;

  constructor(readonly paths: readonly SplitPathName[]) {
    const zero = () => ({ requests: 0, failures: Object.fromEntries(FAILURE_CLASSES.map((c) => [c, 0])) as Record<UpstreamFailureClass, number> });
    for (const path of paths) this.counts[path] = { blue: zero(), green: zero() };
  }

  /** Two additions per result. */
  count(result: UpstreamResult, path: SplitPathName): void {
    const counts = this.counts[path]?.[result.arm];
    if (!counts) return;
    counts.requests++;
    if (result.failure !== undefined && result.failure !== 'client_abort') counts.failures[result.failure]++;
  }
}

/** The ProxyMetrics snapshot of one scrape, taken by the first collector that runs. */
class ScrapeFigures {
  private figures: ProxyFigures | undefined;

  constructor(private readonly metrics: ProxyMetrics) {}

  get(): ProxyFigures {
    return (this.figures ??= this.metrics.snapshot());
  }

  clear(): void {
    this.figures = undefined;
  }
}

// Counters and gauges hold nothing between scrapes: each scrape resets them and fills in the snapshot's totals.
const refill = <M extends Counter | Gauge>(fill: (metric: M) => void) =>
  function (this: M): void {
    this.reset();
    fill(this);
  };

/** Adds counters and gauges, filled at each scrape, to one registry. */
interface Registering {
  counter(name: string, help: string, labelNames: string[], fill: (c: Counter) => void): void;
  gauge(name: string, help: string, labelNames: string[], fill: (g: Gauge) => void): void;
}

function registering(prom: typeof PromClient, registry: Registry): Registering {
  return {
    counter: (name, help, labelNames, fill) => void new prom.Counter({ name, help, labelNames, registers: [registry], collect: refill(fill) }),
    gauge: (name, help, labelNames, fill) => void new prom.Gauge({ name, help, labelNames, registers: [registry], collect: refill(fill) }),
  };
}

function registerPathCounters(add: Registering, byPath: PathCounts): void {
  const { paths, counts } = byPath;
  add.counter('bluegreen_proxy_requests_total', 'Completed upstream requests per arm and split path (routed, fallback and mirror)', ['arm', 'path'], (c) => {
    for (const path of paths) for (const arm of ARMS) c.inc({ arm, path }, counts[path][arm].requests);
  });
  add.counter('bluegreen_proxy_failures_total', 'Failed upstream requests per arm, failure class and split path', ['arm', 'class', 'path'], (c) => {
    for (const path of paths) {
      for (const arm of ARMS) for (const cls of FAILURE_CLASSES) c.inc({ arm, class: cls, path }, counts[path][arm].failures[cls]);
    }
  });
}

function registerFigureCounters(add: Registering, figures: ScrapeFigures): void {
  const snap = () => figures.get();
  add.counter('bluegreen_proxy_quality_failures_total', 'Successful answers that failed a quality check', ['arm'], (c) => {
    for (const arm of ARMS) c.inc({ arm }, snap().arms[arm].qualityFailures);
  });
  add.counter('bluegreen_proxy_tokens_total', 'Tokens the upstream reported', ['arm', 'kind'], (c) => {
    for (const arm of ARMS) {
      c.inc({ arm, kind: 'prompt' }, snap().arms[arm].tokens.prompt);
      c.inc({ arm, kind: 'completion' }, snap().arms[arm].tokens.completion);
    }
  });
  add.counter('bluegreen_proxy_cost_usd_total', 'Cost from the tokens and the plan prices', ['arm'], (c) => {
    for (const arm of ARMS) c.inc({ arm }, snap().arms[arm].costUsd);
  });
  add.counter('bluegreen_proxy_client_aborts_total', 'Requests whose client went away before the answer was whole', ['arm'], (c) => {
    for (const arm of ARMS) c.inc({ arm }, snap().arms[arm].clientAborts);
  });
  add.counter(
    'bluegreen_proxy_neutral_total',
    'Answers in no judged figure (a plain client error, a request pinned outside the split); also in requests_total',
    ['arm'],
    (c) => {
      for (const arm of ARMS) c.inc({ arm }, snap().arms[arm].neutral ?? 0);
    },
  );
  add.counter('bluegreen_proxy_fallbacks_total', 'Green attempts that failed before their first byte and were answered by blue', [], (c) => {
    c.inc(snap().fallbacks);
  });
  add.counter('bluegreen_proxy_mirrors_total', 'Requests copied to green in the background: sent, or dropped at the in-flight limit', ['result'], (c) => {
    c.inc({ result: 'sent' }, snap().mirrors.sent);
    c.inc({ result: 'dropped' }, snap().mirrors.dropped);
  });
  add.counter('bluegreen_proxy_rejected_total', 'Requests the proxy answered itself, by reason', ['reason'], (c) => {
    for (const reason of REJECT_REASONS) c.inc({ reason }, snap().rejected[reason]);
  });
  add.counter(
    'bluegreen_proxy_passthrough_total',
    "Requests for other models and relayed requests (embeddings, token counts...), sent to blue's upstream untouched",
    [],
    (c) => {
      c.inc(snap().passedThrough);
    },
  );
}

function registerGauges(add: Registering, figures: ScrapeFigures, route: () => EffectiveRoute): void {
  add.gauge('bluegreen_proxy_in_flight', 'Upstream requests running per arm', ['arm'], (g) => {
    for (const arm of ARMS) g.set({ arm }, figures.get().arms[arm].inFlight);
  });
  add.gauge('bluegreen_proxy_route_green_weight', 'Share of split requests routed to green now', [], (g) => g.set(route().greenWeight));
  add.gauge('bluegreen_proxy_route_mirror', 'Share of blue-routed split requests mirrored to green now', [], (g) => g.set(route().mirror));
}

/** The scrape's text, rendered at most once per SCRAPE_MAX_AGE_MS of the steady clock `now`. */
function cachedScrape(loadRegistry: () => Promise<Registry>, figures: ScrapeFigures, now: () => number): () => Promise<string> {
  const render = async (): Promise<string> => {
    const registry = await loadRegistry();
    figures.clear();
    try {
      return await registry.metrics();
    } finally {
      figures.clear();
    }
  };
  let last: { text: string; at: number } | undefined;
  // Scrapes arriving during a render share it: one snapshot, never two renders interleaving on the figures.
  let rendering: Promise<string> | undefined;
  return () => {
    const at = now();
    if (last && at - last.at < SCRAPE_MAX_AGE_MS && at >= last.at) return Promise.resolve(last.text);
    rendering ??= render()
      .then((text) => {
        last = { text, at };
        return text;
      })
      .finally(() => (rendering = undefined));
    return rendering;
  };
}
