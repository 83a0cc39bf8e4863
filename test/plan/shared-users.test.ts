// The chance every stage judges nothing when the stages share sticky users (src/plan/shared-users.ts): a user green at
// one weight stays green at a higher one, so the stages' green counts are correlated. Checked against the normal
// orthant probabilities (known in closed form for 2 and 3 correlated counts at their medians) and against a seeded
// simulation of the real splitter over whole rollouts.
import { describe, expect, it } from 'vitest';
import { createRandom, randomInt } from '../../src/core/random.js';
import { judgingOdds, nothingJudgedOdds, shortOdds } from '../../src/plan/judging-odds.js';
import { allUnjudgedOdds, type StageCounts } from '../../src/plan/shared-users.js';
import { createSplitter } from '../../src/split/index.js';
import { planFromYaml } from '../helpers/plans.js';

const FLOOR = 20;
/** c: 40 users sending alike. */
const C = 1 / 40;

/**
 * A green-only stage of `requests` at `weight` whose count is centred on the floor (its own chance of being short is
 * 1/2, continuity correction included) with variance `variance`: its covariance with a stage at weight w2 >= weight
 * is requests x requests2 x C x weight x (1 - w2).
 */
function atFloor(weight: number, requests: number, variance: number): StageCounts {
  return {
    green: { mean: FLOOR - 0.5, sd: Math.sqrt(variance) },
    needsBlue: false,
    shared: { weight, keyCollision: C, greenShift: requests, blueShift: 0 },
  };
}

describe('the chance every stage is short, stages sharing sticky users', () => {
  it('is the product of the stages when no request has a sticky key', () => {
    const stages = [atFloor(0.25, 60, 22.5), atFloor(0.5, 40, 10)].map((stage) => ({ ...stage, shared: { ...stage.shared, keyCollision: 0 } }));
    expect(allUnjudgedOdds(stages, FLOOR, shortOdds)).toBeCloseTo(0.25, 8);
  });

  it('is the bivariate normal orthant 1/4 + asin(rho)/(2 pi): 1/3 for two stages correlated 0.5', () => {
    // Cov = 60 x 40 x 1/40 x 0.25 x (1 - 0.5) = 7.5; sd 22.5^0.5 and 10^0.5 (the second all the users' luck): rho = 7.5 / 15.
    const stages = [atFloor(0.25, 60, 22.5), atFloor(0.5, 40, 10)];
    expect(allUnjudgedOdds(stages, FLOOR, shortOdds)).toBeCloseTo(1 / 3, 4);
    // Where the stages taken as independent said 1/4.
  });

  it('is the trivariate orthant 1/8 + (asin r12 + asin r13 + asin r23)/(4 pi) for three stages, in any order', () => {
    // rho(0.25, 0.5) = 0.5 as above; rho(0.25, 0.75) = 60 x 40 x C x 0.25 x 0.25 / 15 = 0.25; rho(0.5, 0.75) = 5 / 10 = 0.5.
    const stages = [atFloor(0.25, 60, 22.5), atFloor(0.5, 40, 10), atFloor(0.75, 40, 10)];
    const expected = 1 / 8 + (Math.asin(0.5) + Math.asin(0.25) + Math.asin(0.5)) / (4 * Math.PI);
    expect(allUnjudgedOdds(stages, FLOOR, shortOdds)).toBeCloseTo(expected, 4);
    // Weights going down (validate warns of it) share the same users: the chance does not depend on the order.
    expect(allUnjudgedOdds([...stages].reverse(), FLOOR, shortOdds)).toBeCloseTo(expected, 4);
  });

  it('counts two stages at one weight as sharing the same users: 1/4 + asin(rho)/(2 pi) again', () => {
    // Each 40 requests at 0.5, variance 20 of which 40^2 x C x 0.25 = 10 shared: rho = 10 / 20.
    const stages = [atFloor(0.5, 40, 20), atFloor(0.5, 40, 20)];
    expect(allUnjudgedOdds(stages, FLOOR, shortOdds)).toBeCloseTo(1 / 3, 4);
  });

  it('leaves stages at 0 or 100% green as their own chance (the users cannot move them)', () => {
    const full = { ...atFloor(1, 40, 4), shared: { weight: 1, keyCollision: C, greenShift: 40, blueShift: 0 } };
    expect(allUnjudgedOdds([atFloor(0.25, 60, 22.5), atFloor(0.5, 40, 10), full], FLOOR, shortOdds)).toBeCloseTo(1 / 6, 4);
  });
});

describe("validate's odds of nothing judged against seeded rollouts with sticky users", () => {
  /** 1 req/s, 80 s at 25%, 50 s at 40%, 40 s at 50%: about 20 green requests a stage against min_requests 20. */
  const plan = planFromYaml(`
name: shared-users
upstream: { simulate: { models: {} } }
blue: { model: a }
green: { model: b }
traffic: { rate: 1, synthetic: { prompts: [hello], users: 40 } }
stages:
  - { duration: 80s, green_weight: 0.25 }
  - { duration: 50s, green_weight: 0.4 }
  - { duration: 40s, green_weight: 0.5 }
analysis: { min_requests: ${FLOOR}, thresholds: { error_rate: 0.05 } }
`);

  /** Share of `runs` rollouts none of whose stages sent green FLOOR requests: the real splitter, seeded per run as rollout seeds it. */
  function simulatedNothingJudged(runs: number): number {
    let none = 0;
    for (let run = 0; run < runs; run++) {
      const random = createRandom(run + 1);
      const splitter = createSplitter(run + 5_000, createRandom(run + 9_000));
      const judged = plan.stages.some((stage) => {
        let green = 0;
        for (let i = 0; i < stage.duration / 1000; i++) if (splitter.choose(stage.green_weight, `user-${randomInt(random, 1, 40)}`) === 'green') green++;
        return green >= FLOOR;
      });
      if (!judged) none++;
    }
    return none / runs;
  }

  it('agree within 2 points, where the stages taken as independent said half as much', () => {
    const odds = judgingOdds(plan) ?? [];
    const measured = simulatedNothingJudged(10_000);
    // About 20% measured (10,000 runs' noise: 0.4 points); the product of the stages' own chances was about 10%.
    expect(Math.abs(nothingJudgedOdds(odds) - measured)).toBeLessThan(0.02);
    expect(measured - odds.reduce((chance, stage) => chance * stage.unjudged, 1)).toBeGreaterThan(0.07);
  });
});
