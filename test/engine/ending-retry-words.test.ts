// The words `bluegreen rollback` reads and rewrites in an ended rollout's reason when it does the move to blue its
// ending could not (endings.ts): which reasons it retries, what failed, and the reason once it worked.
import { describe, expect, it } from 'vitest';
import { afterMoves, blueMoveFailure, blueUnconfirmed, confirmedReason, endings, weightUnconfirmed } from '../../src/engine/endings.js';

const HOOK = 'on_rollback hook: exec ./to-blue.sh exited 1 (a (nested) note)';
const KEPT = 'proxy http://127.0.0.1:8788: left serving green: another rollout promoted green here (...)';
const MOVED = 'traffic put back on blue by bob (bluegreen rollback)';

describe('an ending whose move to blue failed, as bluegreen rollback reads it', () => {
  it('is retried for a failed move to blue, not for a failed promotion nor a proxy kept by another promotion alone', () => {
    const aborted = afterMoves(endings.aborted('bob'), [HOOK]);
    expect(blueUnconfirmed(aborted.phase, aborted.reason)).toBe(true);
    expect(blueMoveFailure(aborted.reason)).toBe(HOOK);
    const promoted = afterMoves(endings.allStagesPassed(1, 'g'), ['on_promote hook: exited 1']);
    expect(blueUnconfirmed(promoted.phase, promoted.reason)).toBe(false);
    const keptOnly = afterMoves(endings.interrupted('SIGINT'), [], [KEPT]);
    expect(blueUnconfirmed(keptOnly.phase, keptOnly.reason)).toBe(false);
    expect(blueUnconfirmed('aborted', endings.aborted('bob').reason)).toBe(false);
  });

  it('once redone, says who put traffic on blue and what had failed, and no longer asks to check by hand', () => {
    const aborted = afterMoves(endings.aborted('bob'), [HOOK]);
    const confirmed = confirmedReason(aborted.reason, MOVED);
    expect(confirmed).toBe(`aborted by bob; ${MOVED}, after the ending's own move had failed (${HOOK})`);
    expect(weightUnconfirmed({ endedAt: 1, reason: confirmed })).toBe(false);
    expect(weightUnconfirmed({ endedAt: 1, reason: aborted.reason })).toBe(true);
    // A running rollout's weight is its stage's, nothing to confirm.
    expect(weightUnconfirmed({ reason: aborted.reason })).toBe(false);
  });

  it("keeps saying a proxy kept by another rollout's promotion, with what to check by hand there", () => {
    const both = afterMoves(endings.interrupted('SIGTERM'), [HOOK], [KEPT]);
    expect(blueUnconfirmed(both.phase, both.reason)).toBe(true);
    expect(blueMoveFailure(both.reason)).toBe(HOOK);
    const confirmed = confirmedReason(both.reason, MOVED);
    const keptOnly = afterMoves(endings.interrupted('SIGTERM'), [], [KEPT]).reason;
    // The same words as an ending whose only doubt was that proxy, after what was redone.
    expect(confirmed).toBe(`interrupted by SIGTERM; ${MOVED}, after the ending's own move had failed (${HOOK})${keptOnly.slice(keptOnly.indexOf(', but '))}`);
    expect(blueUnconfirmed('interrupted', confirmed)).toBe(false);
  });
});

describe('an ending whose proxy was left to its lease', () => {
  // Session 35's user test: "putting traffic back on blue failed (proxy ...: connect ECONNREFUSED; its lease ran out at
  // ...: it serves blue on its own): check by hand" read as a contradiction. What failed, then what is known, then
  // which proxy to check.
  const URL = 'proxy http://127.0.0.1:8789';
  const LEASE = 'was left to its lease, which ran out at 2026-12-05T14:30:00.000Z, so if it runs it serves blue on its own';
  const silent = { label: URL, error: 'connect ECONNREFUSED 127.0.0.1:8789', lease: LEASE };

  it('names what failed, the proxy to check, and that its lease returns it to blue', () => {
    const ending = afterMoves(
      endings.rolledBack({ rule: 'error_rate', figure: 0.3, limit: 0.05, unit: 'ratio', sample: 40, message: 'green error_rate 30.0% > 5.0%' }),
      [silent],
    );
    expect(ending.reason).toBe(
      `green error_rate 30.0% > 5.0%, but putting traffic back on blue failed (${URL}: connect ECONNREFUSED 127.0.0.1:8789): ` +
        `check by hand that ${URL} serves blue (GET /admin/route); it ${LEASE}`,
    );
    // bluegreen rollback reads and retries it as before.
    expect(blueUnconfirmed(ending.phase, ending.reason)).toBe(true);
    expect(blueMoveFailure(ending.reason)).toBe(`${URL}: connect ECONNREFUSED 127.0.0.1:8789`);
    expect(confirmedReason(ending.reason, MOVED)).toBe(
      `green error_rate 30.0% > 5.0%; ${MOVED}, after the ending's own move had failed (${URL}: connect ECONNREFUSED 127.0.0.1:8789)`,
    );
  });

  it('beside a failed hook: traffic is to be checked, and each such proxy named with what is known of it', () => {
    const two = { label: 'proxy http://127.0.0.1:9789', error: 'timed out', lease: LEASE };
    expect(afterMoves(endings.aborted('bob'), [HOOK, silent]).reason).toBe(
      `aborted by bob, but putting traffic back on blue failed (${HOOK}; ${URL}: connect ECONNREFUSED 127.0.0.1:8789): check by hand that traffic is on blue; ${URL} ${LEASE}`,
    );
    expect(afterMoves(endings.aborted('bob'), [silent, two]).reason).toBe(
      `aborted by bob, but putting traffic back on blue failed (${URL}: connect ECONNREFUSED 127.0.0.1:8789; proxy http://127.0.0.1:9789: timed out): ` +
        `check by hand that ${URL} and proxy http://127.0.0.1:9789 serve blue (GET /admin/route on each); ${URL} ${LEASE}; proxy http://127.0.0.1:9789 ${LEASE}`,
    );
  });

  it("beside another rollout's promotion: the lease said in the failure's words, so the kept proxy's check reads as before", () => {
    const both = afterMoves(endings.interrupted('SIGTERM'), [silent], [KEPT]);
    expect(blueMoveFailure(both.reason)).toBe(`${URL}: connect ECONNREFUSED 127.0.0.1:8789; it ${LEASE}`);
    const keptOnly = afterMoves(endings.interrupted('SIGTERM'), [], [KEPT]).reason;
    expect(confirmedReason(both.reason, MOVED)).toContain(keptOnly.slice(keptOnly.indexOf(', but ')));
  });
});
