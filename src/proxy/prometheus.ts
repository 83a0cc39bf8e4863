// GET /metrics: the proxy's figures in Prometheus text format, through prom-client on a registry of its own.
// Counters are read from the ProxyMetrics snapshot at scrape time (one source for the rollout and Prometheus);
// latency and TTFT are histograms kept as bucket counts per arm and formatted at scrape time.
import { Counter, Gauge, Registry, type Metric } from 'prom-client';
import type { ArmName } from '../plan/plan.js';
import { ARMS } from '../plan/plan.js';
import { FAILURE_CLASSES, type UpstreamFailureClass, type UpstreamResult } from '../upstream/types.js';
import { REJECT_REASONS, type ProxyFigures, type ProxyMetrics, type SplitPathName } from './metrics.js';
import type { EffectiveRoute } from './route.js';

const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120];
const TTFT_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];

/**
 * How long a rendered scrape is served again. Rendering the registry costs about as much CPU as two or three
 * proxied requests (0.2-0.5 ms on a 2-vCPU VM) and /metrics is outside max_concurrency, so a client scraping in a
 * loop could take a core; with this, a storm costs one render a second. Prometheus scrapes every 10-60 s.
 */
export const SCRAPE_MAX_AGE_MS = 1000;

export interface PrometheusExport {
  registry: Registry;
  contentType: string;
  /** The scrape's text: rendered at most once per SCRAPE_MAX_AGE_MS; scrapes meanwhile share that text. */
  text(): Promise<string>;
}

/** Requests and failures by class of one arm on one split path. */
interface PathCounts {
  requests: number;
  failures: Record<UpstreamFailureClass, number>;
}

/**
 * `paths`: the split paths the proxy serves (chat, and the Responses API where it serves it), each a value of the
 * requests' and failures' `path` label, so an operator sees a green failing on one API only.
 */
export function createPrometheus(
  metrics: ProxyMetrics,
  route: () => EffectiveRoute,
  now: () => number = Date.now,
  paths: readonly SplitPathName[] = ['chat'],
): PrometheusExport {
  const registry = new Registry();
  // Counted per result as it is recorded (the figures' snapshot has arms only): two additions per result.
  const byPath = {} as Record<SplitPathName, Record<ArmName, PathCounts>>;
  const zero = (): PathCounts => ({ requests: 0, failures: Object.fromEntries(FAILURE_CLASSES.map((c) => [c, 0])) as Record<UpstreamFailureClass, number> });
  for (const path of paths) byPath[path] = { blue: zero(), green: zero() };
  const countByPath = (result: UpstreamResult, path: SplitPathName): void => {
    const counts = byPath[path]?.[result.arm];
    if (!counts) return;
    counts.requests++;
    if (result.failure !== undefined && result.failure !== 'client_abort') counts.failures[result.failure]++;
  };
  let figures: ProxyFigures | undefined;
  // One snapshot per scrape, taken by the first collector that runs.
  const snap = (): ProxyFigures => (figures ??= metrics.snapshot());
  // Counters and gauges hold nothing between scrapes: each scrape resets them and fills in the snapshot's totals.
  const refill = <M extends Counter | Gauge>(fill: (metric: M) => void) =>
    function (this: M): void {
      this.reset();
      fill(this);
    };
  const counter = (name: string, help: string, labelNames: string[], fill: (c: Counter) => void): void => {
    new Counter({ name, help, labelNames, registers: [registry], collect: refill(fill) });
  };
  const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge) => void): void => {
    new Gauge({ name, help, labelNames, registers: [registry], collect: refill(fill) });
  };

  counter('bluegreen_proxy_requests_total', 'Completed upstream requests per arm and split path (routed, fallback and mirror)', ['arm', 'path'], (c) => {
    for (const path of paths) for (const arm of ARMS) c.inc({ arm, path }, byPath[path][arm].requests);
  });
  counter('bluegreen_proxy_failures_total', 'Failed upstream requests per arm, failure class and split path', ['arm', 'class', 'path'], (c) => {
    for (const path of paths) {
      for (const arm of ARMS) for (const cls of FAILURE_CLASSES) c.inc({ arm, class: cls, path }, byPath[path][arm].failures[cls]);
    }
  });
  counter('bluegreen_proxy_quality_failures_total', 'Successful answers that failed a quality check', ['arm'], (c) => {
    for (const arm of ARMS) c.inc({ arm }, snap().arms[arm].qualityFailures);
  });
  counter('bluegreen_proxy_tokens_total', 'Tokens the upstream reported', ['arm', 'kind'], (c) => {
    for (const arm of ARMS) {
      c.inc({ arm, kind: 'prompt' }, snap().arms[arm].tokens.prompt);
      c.inc({ arm, kind: 'completion' }, snap().arms[arm].tokens.completion);
    }
  });
  counter('bluegreen_proxy_cost_usd_total', 'Cost from the tokens and the plan prices', ['arm'], (c) => {
    for (const arm of ARMS) c.inc({ arm }, snap().arms[arm].costUsd);
  });
  counter('bluegreen_proxy_client_aborts_total', 'Requests whose client went away before the answer was whole', ['arm'], (c) => {
    for (const arm of ARMS) c.inc({ arm }, snap().arms[arm].clientAborts);
  });
  counter('bluegreen_proxy_fallbacks_total', 'Green attempts that failed before their first byte and were answered by blue', [], (c) => {
    c.inc(snap().fallbacks);
  });
  counter('bluegreen_proxy_mirrors_total', 'Requests copied to green in the background: sent, or dropped at the in-flight limit', ['result'], (c) => {
    c.inc({ result: 'sent' }, snap().mirrors.sent);
    c.inc({ result: 'dropped' }, snap().mirrors.dropped);
  });
  counter('bluegreen_proxy_rejected_total', 'Requests the proxy answered itself, by reason', ['reason'], (c) => {
    for (const reason of REJECT_REASONS) c.inc({ reason }, snap().rejected[reason]);
  });
  counter(
    'bluegreen_proxy_passthrough_total',
    "Requests for other models and relayed requests (embeddings, token counts...), sent to blue's upstream untouched",
    [],
    (c) => {
      c.inc(snap().passedThrough);
    },
  );
  gauge('bluegreen_proxy_in_flight', 'Upstream requests running per arm', ['arm'], (g) => {
    for (const arm of ARMS) g.set({ arm }, snap().arms[arm].inFlight);
  });
  gauge('bluegreen_proxy_route_green_weight', 'Share of split requests routed to green now', [], (g) => g.set(route().greenWeight));
  gauge('bluegreen_proxy_route_mirror', 'Share of blue-routed split requests mirrored to green now', [], (g) => g.set(route().mirror));

  // Observed per result on plain arrays; prom-client only formats them at scrape time.
  const latency = new ArmHistogram('bluegreen_proxy_request_duration_seconds', 'Upstream request time per arm, to the last byte', LATENCY_BUCKETS);
  const ttft = new ArmHistogram('bluegreen_proxy_ttft_seconds', 'Time to first token of streamed answers per arm', TTFT_BUCKETS);
  registry.registerMetric(latency as unknown as Metric);
  registry.registerMetric(ttft as unknown as Metric);
  metrics.onResult((result, _kind, _quality, _stage, path = 'chat') => {
    latency.observe(result.arm, result.latencyMs / 1000);
    if (result.ok && result.ttftMs !== undefined) ttft.observe(result.arm, result.ttftMs / 1000);
    countByPath(result, path);
  });

  const render = async (): Promise<string> => {
    figures = undefined;
    try {
      return await registry.metrics();
    } finally {
      figures = undefined;
    }
  };
  let last: { text: string; at: number } | undefined;
  // Scrapes arriving during a render share it: one snapshot, never two renders interleaving on `figures`.
  let rendering: Promise<string> | undefined;
  return {
    registry,
    contentType: registry.contentType,
    text() {
      const at = now();
      if (last && at - last.at < SCRAPE_MAX_AGE_MS && at >= last.at) return Promise.resolve(last.text);
      rendering ??= render()
        .then((text) => {
          last = { text, at };
          return text;
        })
        .finally(() => (rendering = undefined));
      return rendering;
    },
  };
}

interface BucketCounts {
  /** Per bucket, not cumulative (made cumulative when read). */
  counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * A histogram with an `arm` label, registered on a prom-client registry as a metric object of its own (prom-client
 * calls get() at scrape time): observing is a bucket search and three additions, with no label lookup.
 */
class ArmHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly arms: Record<ArmName, BucketCounts>;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
  ) {
    const empty = (): BucketCounts => ({ counts: new Float64Array(bounds.length), sum: 0, count: 0 });
    this.arms = { blue: empty(), green: empty() };
  }

  observe(arm: ArmName, value: number): void {
    const data = this.arms[arm];
    data.sum += value;
    data.count++;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= (bounds[i] as number)) {
        (data.counts[i] as number)++;
        return;
      }
    }
  }

  get(): {
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: { metricName: string; labels: Record<string, string | number>; value: number }[];
  } {
    const values = [];
    for (const arm of ARMS) {
      const data = this.arms[arm];
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += data.counts[i] as number;
        values.push({ metricName: `${this.name}_bucket`, labels: { le: this.bounds[i] as number, arm }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', arm }, value: data.count });
      values.push({ metricName: `${this.name}_sum`, labels: { arm }, value: data.sum });
      values.push({ metricName: `${this.name}_count`, labels: { arm }, value: data.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
