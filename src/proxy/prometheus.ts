// GET /metrics: the proxy's figures in Prometheus text format, through prom-client on a registry of its own.
// Counters are read from the ProxyMetrics snapshot at scrape time (one source for the rollout and Prometheus);
// latency and TTFT are histograms observed as results arrive.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ARMS } from '../plan/plan.js';
import { FAILURE_CLASSES } from '../upstream/types.js';
import { REJECT_REASONS, type ProxyFigures, type ProxyMetrics } from './metrics.js';
import type { EffectiveRoute } from './route.js';

const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120];
const TTFT_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];

export interface PrometheusExport {
  registry: Registry;
  contentType: string;
  text(): Promise<string>;
}

export function createPrometheus(metrics: ProxyMetrics, route: () => EffectiveRoute): PrometheusExport {
  const registry = new Registry();
  let figures: ProxyFigures | undefined;
  // One snapshot per scrape, taken by the first collector that runs.
  const snap = (): ProxyFigures => (figures ??= metrics.snapshot());
  const counter = (name: string, help: string, labelNames: string[], fill: (c: Counter) => void): void => {
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        fill(this);
      },
    });
  };
  const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge) => void): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        fill(this);
      },
    });
  };

  counter('bluegreen_proxy_requests_total', 'Completed upstream requests per arm (routed, fallback and mirror)', ['arm'], (c) => {
    for (const arm of ARMS) c.inc({ arm }, snap().arms[arm].requests);
  });
  counter('bluegreen_proxy_failures_total', 'Failed upstream requests per arm and failure class', ['arm', 'class'], (c) => {
    for (const arm of ARMS) {
      const byClass = snap().arms[arm].failuresByClass;
      for (const cls of FAILURE_CLASSES) c.inc({ arm, class: cls }, byClass[cls] ?? 0);
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
  counter('bluegreen_proxy_passthrough_total', "Requests for other models, sent to blue's upstream untouched", [], (c) => {
    c.inc(snap().passedThrough);
  });
  gauge('bluegreen_proxy_in_flight', 'Upstream requests running per arm', ['arm'], (g) => {
    for (const arm of ARMS) g.set({ arm }, snap().arms[arm].inFlight);
  });
  gauge('bluegreen_proxy_route_green_weight', 'Share of split requests routed to green now', [], (g) => g.set(route().greenWeight));
  gauge('bluegreen_proxy_route_mirror', 'Share of blue-routed split requests mirrored to green now', [], (g) => g.set(route().mirror));

  const latency = new Histogram({
    name: 'bluegreen_proxy_request_duration_seconds',
    help: 'Upstream request time per arm, to the last byte',
    labelNames: ['arm'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const ttft = new Histogram({
    name: 'bluegreen_proxy_ttft_seconds',
    help: 'Time to first token of streamed answers per arm',
    labelNames: ['arm'],
    buckets: TTFT_BUCKETS,
    registers: [registry],
  });
  const latencyOf = { blue: latency.labels({ arm: 'blue' }), green: latency.labels({ arm: 'green' }) };
  const ttftOf = { blue: ttft.labels({ arm: 'blue' }), green: ttft.labels({ arm: 'green' }) };
  metrics.onResult((result) => {
    latencyOf[result.arm].observe(result.latencyMs / 1000);
    if (result.ok && result.ttftMs !== undefined) ttftOf[result.arm].observe(result.ttftMs / 1000);
  });

  return {
    registry,
    contentType: registry.contentType,
    async text() {
      figures = undefined;
      try {
        return await registry.metrics();
      } finally {
        figures = undefined;
      }
    },
  };
}
