// Bench plans are written as YAML and loaded through the real plan loader, as a user's plan would be.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPlan } from '../../dist/plan/load.js';

export const BENCH_KEY_ENV = 'BENCH_API_KEY';
export const BENCH_KEY = 'bench-not-a-secret';

// Plans and state folders live in temp folders, removed when the benchmark process exits.
const created = [];
process.on('exit', () => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix = 'bluegreen-bench-') {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** Writes plan YAML into a fresh temp folder; returns the file path. */
export function writePlanFile(yaml, dir = tempDir()) {
  const file = path.join(dir, 'plan.yaml');
  writeFileSync(file, yaml);
  return file;
}

export function planFromYaml(yaml) {
  const file = writePlanFile(yaml);
  return loadPlan(file, path.dirname(file));
}

/**
 * A plan against a real (loopback) base URL: one stage, the design's analysis settings, no retries needed.
 * With warmupMs, a first stage of that length comes before the measured one (per-stage metrics keep them apart).
 * @param {{ baseUrl: string, rate: number, durationMs: number, maxInFlight: number, greenWeight?: number, warmupMs?: number, name?: string }} o
 */
export function loopbackPlanYaml(o) {
  return `
name: ${o.name ?? 'bench'}
upstream:
  base_url: ${o.baseUrl}
  api: openai
  api_key_env: ${BENCH_KEY_ENV}
  timeout: { connect: 2s, request: 10s }
  retries: { max: 2, base_delay: 100ms, max_delay: 1s }
blue:  { model: bench-blue,  price: { input_per_mtok: 2.50, output_per_mtok: 10.00 } }
green: { model: bench-green, price: { input_per_mtok: 2.00, output_per_mtok: 8.00 } }
traffic:
  rate: ${o.rate}
  max_in_flight: ${o.maxInFlight}
  stream: 0
  synthetic: { users: 1000 }
stages:${o.warmupMs ? `\n  - { name: warm-up, duration: ${Math.round(o.warmupMs)}ms, green_weight: ${o.greenWeight ?? 0.5} }` : ''}
  - { name: measured, duration: ${Math.round(o.durationMs)}ms, green_weight: ${o.greenWeight ?? 0.5} }
analysis:
  interval: 2s
  min_requests: 20
  thresholds: { error_rate: 0.05, consecutive_errors: 5, latency_p95: 5s, quality_fail_rate: 0.05 }
  compare_to_blue: { max_error_rate_increase: 0.02 }
  quality: { min_content_length: 10 }
`;
}
