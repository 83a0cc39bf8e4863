// Which proxies already serve this plan's green as promoted: a promotion recorded for another plan or other
// models is not this one's.
import { describe, expect, it } from 'vitest';
import { describePromoted, promotedStanding } from '../../src/live/promoted.js';
import { routeOwner, type Route } from '../../src/proxy/route.js';
import { planFromYaml, simulatedPlan } from '../helpers/plans.js';

const plan = planFromYaml(simulatedPlan('standing', '1m', 0.5));
const owner = routeOwner(plan.name, plan.arms.blue.model, plan.arms.green.model);
const promoted = (rollout: string | undefined): Route => ({ greenWeight: 1, mirror: 0, promotedArm: 'green', updatedAt: 1, ...(rollout && { rollout }) });

describe('promotedStanding', () => {
  it('tells promoted everywhere, on some proxies, and nowhere apart', () => {
    const a = { url: 'http://a', route: promoted(owner) };
    const b = { url: 'http://b', route: { greenWeight: 0, mirror: 0, updatedAt: 2, rollout: owner } };
    expect(promotedStanding(plan, [a])).toEqual({ kind: 'promoted', proxies: [a] });
    expect(promotedStanding(plan, [a, b])).toEqual({ kind: 'partly', promoted: [a], others: [b] });
    expect(promotedStanding(plan, [b])).toEqual({ kind: 'not_promoted' });
  });

  it('does not take another plan’s promotion, other models’, or an unowned one for this plan’s', () => {
    for (const rollout of [
      routeOwner('other', plan.arms.blue.model, plan.arms.green.model),
      routeOwner(plan.name, plan.arms.blue.model, 'other-model'),
      undefined,
    ]) {
      expect(promotedStanding(plan, [{ url: 'http://a', route: promoted(rollout) }])).toEqual({ kind: 'not_promoted' });
    }
    // Blue promoted by hand is not green promoted.
    expect(promotedStanding(plan, [{ url: 'http://a', route: { ...promoted(owner), promotedArm: 'blue', greenWeight: 0 } }])).toEqual({ kind: 'not_promoted' });
  });
});

describe('describePromoted', () => {
  // review34 F5: "set by hand" alone was untrue of a promotion a rollout from before session 18 (before run ids) left.
  it("says a promotion with no run id is an operator's or an older bluegreen's, and says nothing of one a run set", () => {
    expect(describePromoted({ url: 'http://a', route: promoted(owner) })).toBe(
      'proxy http://a since 1970-01-01T00:00:00.001Z (set by hand or by an older bluegreen: no run id names a rollout that judged it)',
    );
    expect(describePromoted({ url: 'http://a', route: { ...promoted(owner), controller: 'run-1' } })).toBe('proxy http://a since 1970-01-01T00:00:00.001Z');
  });
});
