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
