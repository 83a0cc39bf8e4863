// edges31: a proxy that took the promotion but could not save it (its state folder filled between the promotion's
// two steps) answers 500 with the parts (in force, why not saved, what a restart would serve). The rollout retried it
// three times, read its route back, saw the promotion and said "serving green (promoted, kept across restarts): its
// answer was lost (<the whole 500>)": untrue about restarts, which would serve the first step's route (blue once its
// lease runs out). Now it stays promoted (green serves all traffic; a restart falls back toward blue, the safe way)
// and journals a warning in one line saying what a restart would serve. Real proxies and the engine on the fake clock;
// the route file is made unwritable (a folder in its place) just before the promotion reaches the proxy.
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RolloutEngine } from '../../src/engine/rollout.js';
import type { RolloutEvent } from '../../src/engine/types.js';
import { ROUTE_FILE } from '../../src/proxy/route.js';
import { proxyErrorLine } from '../../src/report/live-text.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { planFromYaml, tempDir } from '../helpers/plans.js';
import type { Running } from '../proxy/helpers.js';
import { adminRelay, type RouteBody } from './admin-relay.js';
import { engineOnProxies, fleetOf, runClockUntil } from './engine-on-proxies.js';
import { liveFixture, proxyPlan } from './helpers.js';

const fixture = liveFixture();
const LEASE_MS = 60_000;
const POLL_MS = 250;

/**
 * A one-stage live rollout (50% green) over one real proxy on the fake clock, behind a relay that makes its route file
 * unwritable (a folder in its place) just before the first route `fills` picks reaches it; counts those routes.
 */
async function rollout(fills: (route: RouteBody) => boolean) {
  const clock = new FakeClock();
  const stateDir = tempDir();
  const [proxy] = (await fixture.startProxies(1, { now: () => clock.now(), stateDirs: [stateDir] })) as [Running];
  const file = path.join(stateDir, ROUTE_FILE);
  const seen = { routes: 0 };
  const relay = await adminRelay(proxy.proxy.adminUrl as string, {
    before: (route) => {
      if (fills(route) && seen.routes++ === 0) {
        rmSync(file, { force: true });
        mkdirSync(path.join(file, 'in-the-way'), { recursive: true });
      }
      return Promise.resolve();
    },
  });
  const plan = planFromYaml(`${proxyPlan().replace('green_weight: 0 }', 'green_weight: 0.5 }')}`);
  const fleet = fleetOf([relay.url], clock, LEASE_MS, POLL_MS);
  const journal: RolloutEvent[] = [];
  const outcome = await runClockUntil(clock, new RolloutEngine(engineOnProxies(plan, fleet, clock, journal)).run());
  return { outcome, journal, proxy, relay, file, seen, fleet };
}

describe('a promotion a proxy took but could not save', () => {
  it('stays promoted (exit 0) and journals a warning saying what a restart would serve, asked once, not read back', async () => {
    const { outcome, journal, proxy, relay, file, seen } = await rollout((route) => route.promotedArm === 'green');

    expect(outcome).toMatchObject({ phase: 'promoted', exitCode: 0 });
    expect(outcome.reason).not.toContain('check by hand');
    expect(proxy.proxy.route.effective()).toEqual({ greenWeight: 1, mirror: 0 });
    expect(proxy.proxy.route.stored.promotedArm).toBe('green');
    // The proxy said it took it: not asked again (its answer would be the same), nor its route read back.
    expect(seen.routes).toBe(1);
    const said = journal.filter((event) => event.message.startsWith(`proxy ${relay.url}: serving green`));
    expect(said.map((event) => event.type)).toEqual(['warning']);
    // A restart would serve the first step's route, saved before the folder filled: green under its lease, then blue.
    const head = `proxy ${relay.url}: serving green, promoted, but could not save it (could not save the route to ${file}: EISDIR), so a restart would serve `;
    expect(said[0]?.message.startsWith(head)).toBe(true);
    expect(said[0]?.message.slice(head.length)).toMatch(
      /^green 100%, mirror 0% \(promoting: .*\) until its lease runs out at \S+, then blue: free its state folder \(disk space, permissions\), then promote it again by hand \(PUT \/admin\/route\)$/,
    );
    expect(said[0]?.message).not.toContain('kept across restarts');
    expect(journal.find((event) => event.type === 'promoted')).toBeDefined();
  });

  it("keeps the proxy answering in the rollout's view, serving the promotion, and shows why it is not saved", async () => {
    const { outcome, fleet, file } = await rollout((route) => route.promotedArm === 'green');
    expect(outcome).toMatchObject({ phase: 'promoted', exitCode: 0 });
    const view = fleet.proxies[0]!.view;
    // Before: marked not answering ("NOT ANSWERING" in the dashboard and `status`) though it answered, still at 50%.
    expect(view).toMatchObject({ reachable: true, promotedArm: 'green', greenWeight: 1, unsaved: `could not save the route to ${file}: EISDIR` });
    expect(view.unreachableSince).toBeUndefined();
    expect(proxyErrorLine(view)).toBe(`    route taken, not saved there: could not save the route to ${file}: EISDIR`);
  });

  it('declines at the first step (all green under a lease) in one line, and the rollout rolls back (exit 10, rule hook)', async () => {
    const firstStep = (route: RouteBody) => route.greenWeight === 1 && route.promotedArm === undefined;
    const { outcome, journal, proxy, relay, file, seen } = await rollout(firstStep);
    expect(outcome).toMatchObject({ phase: 'rolled_back', exitCode: 10 });
    expect(outcome.breach?.rule).toBe('hook');
    expect(seen.routes).toBe(1);
    // What a restart would serve: the stage's route saved before, until its lease runs out.
    expect(outcome.reason).toContain(
      `proxy ${relay.url} did not take the promotion (its route is in force but not saved (could not save the route to ${file}: EISDIR), ` +
        'so a restart would serve green 50%, mirror 0% (stage 1/1 of live-test) until its lease runs out at ',
    );
    expect(outcome.reason).toMatch(/, then blue: free its state folder \(disk space, permissions\)\); rolling every proxy back$/);
    expect(proxy.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    expect(journal.find((event) => event.message.startsWith(`proxy ${relay.url}: serving blue;`))?.type).toBe('hook_succeeded');
  });
});
