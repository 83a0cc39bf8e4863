// rollout --resume: the requests a dead run had in flight at its last state.json write never answer. They stay in
// the resumed stage's rate tests, in send order, as outcomes unknown for good: left out, the carried sample held
// the fast failures but not the slow successes sent beside them, and read the rate too high.
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/analysis/index.js';
import { censoredBounds, priorAround, rateBounds } from '../../src/analysis/sequential.js';
import { createRandom } from '../../src/core/random.js';
import { ArmRecorder } from '../../src/metrics/arm.js';
import { carriedCounts } from '../../src/metrics/carry.js';
import { emptyArmStats, type ArmStats } from '../../src/metrics/types.js';
import type { UpstreamResult } from '../../src/upstream/types.js';
import { analysisConfig } from '../helpers/plans.js';

const LIMIT = 0.05;
const config = analysisConfig({ thresholds: { error_rate: LIMIT } });

function result(ok: boolean, latencyMs: number): UpstreamResult {
  return {
    arm: 'green',
    model: 'g',
    ok,
    status: ok ? 200 : 500,
    content: 'x',
    latencyMs,
    attempts: 1,
    stream: false,
    ...(!ok && { failure: 'server_error' as const }),
  };
}

/**
 * A seeded green failing 4% (under the 5% limit), sent 10 a second, its failures answering in 50 ms and its
 * successes in 3 s, killed 30 s in: its arm as the dead run's last state.json saved it.
 */
function deadRunArm(seed: number): { saved: ArmStats; failed: number; sent: number } {
  const random = createRandom(seed);
  const arm = new ArmRecorder(undefined);
  const crashMs = 30_000;
  let failed = 0;
  let sent = 0;
  for (let sentMs = 0; sentMs < crashMs; sentMs += 100) {
    const ok = random() >= 0.04;
    if (!ok) failed++;
    sent++;
    arm.dispatched(false);
    const latencyMs = ok ? 3_000 : 50;
    if (sentMs + latencyMs <= crashMs) arm.record(result(ok, latencyMs), false);
  }
  return { saved: arm.snapshot(true), failed, sent };
}

function errorRateEvidence(green: ArmStats) {
  const check = evaluate({ stageIndex: 0, stageCount: 1, green, blue: emptyArmStats(), config }).checks.find((c) => c.rule === 'error_rate')!;
  return { status: check.status, evidence: check.evidence! };
}

describe('a dead run’s requests in flight, carried by rollout --resume (seeded, known values)', () => {
  it('are carried as lost, and error_rate counts them as unknown: the interval of x failures in n + lost sent', () => {
    const { saved, failed, sent } = deadRunArm(28);
    // Seed 28: of the 29 requests sent after 27 s, 28 are successes still running (3 s answers), 1 a failure answered.
    expect(saved.inFlight).toBe(28);
    expect([saved.failures, failed, saved.requests, sent]).toEqual([9, 9, 272, 300]);
    expect(saved.requests + saved.inFlight).toBe(sent);

    const resumed = new ArmRecorder(undefined);
    resumed.carry(carriedCounts(saved));
    const green = resumed.snapshot(true);
    expect([green.requests, green.failures, green.inFlight, green.lost]).toEqual([saved.requests, saved.failures, 0, saved.inFlight]);

    const { status, evidence } = errorRateEvidence(green);
    const alpha = 1 - evidence.confidence;
    const expected = censoredBounds(failed, saved.inFlight, sent, alpha, priorAround(LIMIT));
    expect(evidence.lower).toBeCloseTo(expected.lower, 9);
    expect(evidence.upper).toBeCloseTo(expected.upper, 9);
    // Wider than the interval on the answered requests alone (what a resume judged before), on both sides.
    const answeredOnly = rateBounds(failed, saved.requests, alpha, priorAround(LIMIT));
    expect(evidence.lower).toBeLessThan(answeredOnly.lower);
    expect(evidence.upper).toBeGreaterThan(answeredOnly.upper);
    // The same as while the dead run lived with them running: the resume changes nothing in the test.
    expect(errorRateEvidence(saved).evidence).toEqual(evidence);
    expect(status).not.toBe('breach');
  });

  it('widen the interval on both sides by the lost requests as failures (upper) and as successes (lower)', () => {
    // 8 fast failures among the first 100 answers of 130 sent: 8% of the answered, about 6% of the sent.
    const answered = { ...emptyArmStats(), requests: 100, successes: 92, failures: 8 };
    const before = errorRateEvidence(answered);
    const after = errorRateEvidence({ ...answered, lost: 30 });
    expect(after.evidence.lower).toBeLessThan(before.evidence.lower);
    expect(after.evidence.upper).toBeGreaterThan(before.evidence.upper);
    const alpha = 1 - after.evidence.confidence;
    expect(after.evidence.lower).toBeCloseTo(rateBounds(8, 130, alpha, priorAround(LIMIT)).lower, 9);
    expect(after.evidence.upper).toBeCloseTo(rateBounds(38, 130, alpha, priorAround(LIMIT)).upper, 9);
  });

  it('go on to a second resume, beside the requests the resumed run had running; a state.json without them carries none', () => {
    const first = new ArmRecorder(undefined);
    first.carry(carriedCounts({ ...emptyArmStats(), requests: 10, successes: 10, inFlight: 4 }));
    first.dispatched(false);
    first.dispatched(false);
    const again = new ArmRecorder(undefined);
    again.carry(carriedCounts(first.snapshot(true)));
    expect(again.snapshot().lost).toBe(6);
    // Older files (no inFlight), and live traffic's requests at the proxies (they go on being served there).
    expect(carriedCounts({ requests: 10, successes: 10 }).lost).toBe(0);
    expect(carriedCounts({ requests: 10, successes: 10, inFlight: 7, atProxies: 5 }).lost).toBe(2);
    expect(carriedCounts({ requests: 10, successes: 10, inFlight: -3, lost: 'many' } as never).lost).toBe(0);
  });
});
