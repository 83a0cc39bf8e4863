// The spread of an arm's count per stage when requests carry sticky keys (src/plan/judging-odds.ts): a user's
// requests go to one arm together, so the count varies more than a binomial split's. The design-effect variance is
// checked against a seeded simulation of the real splitter, and the sampled file's own user ids (read by validate)
// widen it as synthetic.users does.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkBeforeTraffic } from '../../src/cli/plan-checks.js';
import { createRandom } from '../../src/core/random.js';
import { judgingOdds, splitCount } from '../../src/plan/judging-odds.js';
import { createSplitter } from '../../src/split/index.js';
import { checkSampledFile } from '../../src/traffic/sampled-check.js';
import { planFromYaml, tempDir } from '../helpers/plans.js';

/** Green's count of `total` requests at `weight` over `runs` seeded runs, each request's key drawn by `key`. */
function simulatedGreen(total: number, weight: number, key: (random: () => number) => string | undefined, runs: number): { mean: number; sd: number } {
  const counts: number[] = [];
  for (let run = 0; run < runs; run++) {
    const random = createRandom(run + 1);
    // As `bluegreen rollout` seeds its split: a new seed each run, so which users land on green changes.
    const splitter = createSplitter(run + 7_000, createRandom(run + 9_000));
    let green = 0;
    for (let i = 0; i < total; i++) if (splitter.choose(weight, key(random)) === 'green') green++;
    counts.push(green);
  }
  const mean = counts.reduce((sum, count) => sum + count, 0) / runs;
  const variance = counts.reduce((sum, count) => sum + (count - mean) ** 2, 0) / (runs - 1);
  return { mean, sd: Math.sqrt(variance) };
}

/** 30 users, user k sending in proportion to 1/k (a few heavy users, many light ones), and their collision chance. */
const ZIPF_USERS = 30;
const zipfShares = Array.from({ length: ZIPF_USERS }, (_, k) => 1 / (k + 1));
const zipfTotal = zipfShares.reduce((sum, share) => sum + share, 0);
const zipfCollision = zipfShares.reduce((sum, share) => sum + (share / zipfTotal) ** 2, 0);
function zipfUser(random: () => number): string {
  let u = random() * zipfTotal;
  for (let k = 0; k < ZIPF_USERS; k++) {
    u -= zipfShares[k] as number;
    if (u < 0) return `user-${k}`;
  }
  return `user-${ZIPF_USERS - 1}`;
}

describe('the spread of a stage count with sticky keys', () => {
  it('matches a seeded simulation of the real splitter: binomial without keys, the design effect with them', () => {
    const total = 200;
    const weight = 0.25;
    const runs = 3000;
    const unkeyed = simulatedGreen(total, weight, () => undefined, runs);
    expect(unkeyed.sd / splitCount(total, weight, 0, false).sd).toBeCloseTo(1, 1);
    const keyed = simulatedGreen(total, weight, zipfUser, runs);
    const predicted = splitCount(total, weight, zipfCollision, false);
    expect(keyed.mean).toBeCloseTo(predicted.mean, -1);
    // Within 10% of the simulated spread, where the binomial alone is less than half of it.
    expect(Math.abs(keyed.sd / predicted.sd - 1)).toBeLessThan(0.1);
    expect(splitCount(total, weight, 0, false).sd / keyed.sd).toBeLessThan(0.5);
  });
});

describe("the sampled file's sticky keys", () => {
  /** A JSONL file: `lines` request bodies, the i-th from user(i) (no user field when undefined). */
  function sampledFile(dir: string, lines: number, user: (i: number) => string | undefined): string {
    const file = path.join(dir, 'traffic.jsonl');
    const body = (i: number) => JSON.stringify({ messages: [{ role: 'user', content: `question ${i}` }], ...(user(i) !== undefined && { user: user(i) }) });
    writeFileSync(file, Array.from({ length: lines }, (_, i) => body(i)).join('\n'));
    return file;
  }

  it('are counted as the chance two lines share one (lines without a key share none)', async () => {
    const dir = tempDir();
    // 3 lines of a, 1 of b, 1 without a user: (3^2 + 1^2) / 5^2.
    const users = ['a', 'a', 'b', undefined, 'a'];
    const check = await checkSampledFile(
      sampledFile(dir, 5, (i) => users[i]),
      256,
    );
    expect(check.usable).toBe(5);
    expect(check.keyCollision).toBeCloseTo(10 / 25, 10);
    const unkeyed = await checkSampledFile(
      sampledFile(tempDir(), 5, () => undefined),
      256,
    );
    expect(unkeyed.keyCollision).toBe(0);
  });

  it('widen the odds validate gives: 4 users replayed make a stage sure to judge a close call', async () => {
    const dir = tempDir();
    const plan = (file: string) =>
      planFromYaml(
        `
name: sampled-users
upstream: { simulate: { default: {} } }
blue: { model: a }
green: { model: b }
traffic: { rate: 10, sampled: { file: ${file} } }
stages:
  - { duration: 30s, green_weight: 0.5 }
analysis: { min_requests: 20, thresholds: { error_rate: 0.05 } }
`,
        dir,
      );
    // 300 requests at 50%: 150 green, give or take 9 unkeyed, far above 20; with 4 users, give or take about 75.
    const unkeyed = plan(sampledFile(dir, 40, () => undefined));
    expect(await checkBeforeTraffic(unkeyed)).toEqual([]);
    const fourUsers = plan(sampledFile(dir, 40, (i) => `user-${i % 4}`));
    const odds = judgingOdds(fourUsers, 0.25)?.[0];
    expect(odds?.green.sd).toBeCloseTo(Math.sqrt(300 * 0.25 * (1 + 299 * 0.25)), 6);
    expect(await checkBeforeTraffic(fourUsers)).toEqual([
      expect.stringMatching(
        /^stages\[0\]\.duration: about 150 green request\(s\) at 10\/s, give or take 75 from run to run: close to analysis\.min_requests \(20\)/,
      ),
      expect.stringMatching(/^analysis\.on_unjudged: every stage's requests at 10\/s are close to analysis\.min_requests \(20\)/),
    ]);
  });
});
