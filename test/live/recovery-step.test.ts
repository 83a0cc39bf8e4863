// What a dead rollout's recovery says of a proxy on blue that no run's route holds (recovery-step.ts), decided as the
// actuator decides which route it replaced was set by hand (setByHand in src/proxy/route.ts). Before (clock23), the
// blue a lapsed lease left on an operator's route (no run id either) was said to be "set by hand": an operator's
// decision it never was.
import { expect, it } from 'vitest';
import { recoveryStep, type DeadRun } from '../../src/live/recovery-step.js';
import { BLUE_ROUTE, LEASE_EXPIRED, setByHand, type Route } from '../../src/proxy/route.js';

const STARTED = Date.UTC(2026, 0, 1);
const DEAD: DeadRun = { runs: ['run-1'], startedAt: STARTED, lastRecordAt: STARTED + 60_000, stateDir: '/state' };
const AFTER = STARTED + 120_000;
const BLUE = { greenWeight: 0, mirror: 0 };

const said = (route: Route) => recoveryStep(route, BLUE, AFTER, DEAD);

it("says an operator's blue is set by hand, a lapsed lease's blue is not, and a proxy never set is neither", () => {
  const byHand: Route = { ...BLUE, reason: 'operator: emergency blue', updatedAt: AFTER };
  expect(setByHand(byHand)).toBe(true);
  expect(said(byHand)).toEqual({
    kind: 'already_blue',
    what: "already on blue, set by hand or by an older bluegreen (green 0%, mirror 0% (operator: emergency blue), set at 2026-01-01T00:02:00.000Z, after this rollout's last record (2026-01-01T00:01:00.000Z))",
  });

  const lapsed: Route = { ...BLUE, reason: LEASE_EXPIRED, updatedAt: AFTER };
  expect(setByHand(lapsed)).toBe(false);
  expect(said(lapsed)).toEqual({
    kind: 'already_blue',
    what: "already on blue: the lease of a route set by hand or by an older bluegreen ran out, and its blue was set at 2026-01-01T00:02:00.000Z, after this rollout's last record (2026-01-01T00:01:00.000Z)",
  });

  expect(said({ ...BLUE_ROUTE })).toEqual({ kind: 'already_blue', what: 'already on blue (no route set since it started)' });
});

// review34 F5: a route with no run id was said to be "set by hand", but a rollout from before session 18 (before run
// ids) set routes without one too, and a proxy keeps its promotion saved (proxy-route.json) across upgrades.
it("says a route with no run id may be an older bluegreen rollout's, as it cannot tell it from an operator's", () => {
  const oldPromotion: Route = { greenWeight: 1, mirror: 0, promotedArm: 'green', reason: 'promoted: all stages passed', updatedAt: STARTED - 60_000 };
  expect(setByHand(oldPromotion)).toBe(true);
  expect(recoveryStep(oldPromotion, { greenWeight: 1, mirror: 0 }, AFTER, DEAD)).toEqual({
    kind: 'left',
    what:
      'left as it is: its route was set by hand or by an older bluegreen (no run id), set at 2025-12-31T23:59:00.000Z, before this rollout ' +
      "started (2026-01-01T00:00:00.000Z): promoted green (promoted: all stages passed); not this rollout's route to undo; " +
      'to put it on blue all the same: bluegreen rollback --force-blue --state-dir /state',
  });
});
