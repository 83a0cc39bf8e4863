// Builders for upstream results and a hand-driven clock, shared by the metrics tests.
import type { UpstreamResult } from '../../src/upstream/types.js';
import type { ArmName } from '../../src/plan/plan.js';

export function ok(arm: ArmName, extra: Partial<UpstreamResult> = {}): UpstreamResult {
  return {
    arm,
    model: `${arm}-model`,
    ok: true,
    status: 200,
    content: 'hello there',
    finishReason: 'stop',
    latencyMs: 100,
    attempts: 1,
    stream: false,
    ...extra,
  };
}

export function failed(arm: ArmName, extra: Partial<UpstreamResult> = {}): UpstreamResult {
  return {
    arm,
    model: `${arm}-model`,
    ok: false,
    status: 500,
    failure: 'server_error',
    errorMessage: 'boom',
    content: '',
    latencyMs: 100,
    attempts: 1,
    stream: false,
    ...extra,
  };
}

export function manualClock(start = 1_700_000_000_000): { now: () => number; set: (ms: number) => void; advance: (ms: number) => void } {
  let time = start;
  return {
    now: () => time,
    set: (ms) => {
      time = ms;
    },
    advance: (ms) => {
      time += ms;
    },
  };
}

export const PASS = { ok: true } as const;
