// Small shared helpers: options, machine info, percentiles, result output.
import { renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';

export const QUICK = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';

export function envNumber(name, fallback) {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got "${value}"`);
  return n;
}

export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    date: new Date().toISOString(),
  };
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * How many leading entries of a list satisfy `holds`, which holds for a prefix of it (a sorted list read against a
 * value): by bisection. Requests sent before a moment, for the p95 ratio's sent-before views of blue.
 */
export function leadingCount(list, holds) {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (holds(list[mid])) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function round(n, digits = 2) {
  if (n === null || n === undefined || !Number.isFinite(n)) return n;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** A figure in MB for a log line, or what stands in for it when there was no reading (an empty window). */
export const mbText = (/** @type {number | null | undefined} */ mb) => (mb === null || mb === undefined ? 'no reading' : `${mb} MB`);

export function log(message) {
  process.stderr.write(`  ${message}\n`);
}

/** A benchmark child writes its result to $BENCH_OUT (or stdout when run alone). */
export function writeResult(result) {
  const text = `${JSON.stringify(result, null, 2)}\n`;
  if (process.env.BENCH_OUT) writeWhole(process.env.BENCH_OUT, text);
  else process.stdout.write(text);
}

/**
 * A long benchmark's results so far, marked `partial`, to $BENCH_OUT (nothing when run alone: its rows log to stderr
 * as they end): bench/run.js keeps them when it kills the run at its limit, and the final writeResult replaces them.
 */
export function writeProgress(result) {
  if (process.env.BENCH_OUT) writeWhole(process.env.BENCH_OUT, `${JSON.stringify({ ...result, partial: true }, null, 2)}\n`);
}

/** Written beside it, then renamed over it: a kill mid-write leaves the last whole version, never half of one. */
function writeWhole(file, text) {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, file);
}

/** Milliseconds since the epoch with sub-millisecond resolution, aligned on Date.now(). */
export function createHrEpoch() {
  // Align performance.now() on a Date.now() tick edge, so the two frames agree to a few microseconds.
  const start = Date.now();
  let tick;
  const spinUntil = performance.now() + 50;
  while ((tick = Date.now()) === start && performance.now() < spinUntil);
  const offset = tick - performance.now();
  return () => offset + performance.now();
}
