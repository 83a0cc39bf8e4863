// Durations are capped below what Node's timers can hold: the longest one a plan may set never fires early.
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { MAX_DURATION_MS, parseDuration } from '../../src/plan/duration.js';
import { planFromYaml, simulatedPlan } from '../helpers/plans.js';

/** Node's setTimeout fires at once (after 1 ms) beyond this. */
const NODE_TIMER_LIMIT_MS = 2 ** 31 - 1;

describe('the longest duration', () => {
  it('is below what Node can wait for', () => {
    expect(MAX_DURATION_MS).toBeLessThan(NODE_TIMER_LIMIT_MS);
    expect(parseDuration('336h')).toBe(MAX_DURATION_MS);
  });

  it('a stage and a health-check interval of 336h load; 600h is refused', () => {
    const plan = planFromYaml(`${simulatedPlan('long', '336h', 0.5)}health_check: { interval: 336h }\n`);
    expect(plan.stages[0]?.duration).toBe(MAX_DURATION_MS);
    expect(() => planFromYaml(simulatedPlan('long', '600h', 0.5))).toThrow('must be at most 336h (14 days), found "600h"');
    expect(() => planFromYaml(`${simulatedPlan('long', '1m', 0.5)}health_check: { interval: 600h }\n`)).toThrow('health_check.interval: must be at most 336h');
  });

  it('a timer of the longest duration on the system clock has not fired when a 20 ms timer fires', async () => {
    let longFired = false;
    const long = systemClock.setTimer(() => (longFired = true), MAX_DURATION_MS);
    // An overflowing timer fires after 1 ms, so it would come before this one.
    await new Promise<void>((resolve) => systemClock.setTimer(resolve, 20));
    long.cancel();
    expect(longFired).toBe(false);
  });
});
