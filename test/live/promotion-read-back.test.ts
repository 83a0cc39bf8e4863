// review10 / leftalone11: a proxy that took the promotion's first step and never confirmed the second ended the
// rollout promoted (exit 0) with "check by hand", whether or not the promotion reached it. Now its route is read
// back (GET /admin/route) until its first step's lease would have run out: shown promoted, the rollout ends cleanly
// promoted; shown blue (the lease ran out: the promotion never reached it), the rollout rolls back (exit 10, as for a
// proxy that did not take the first step) rather than say "promoted" while that proxy serves blue. Silent all along,
// it stays in doubt (exit 0, check by hand: a rollback it also missed could leave it on green for good). The engine and
// two real proxies share the fake clock, so the proxies' leases run out with the rollout's time.
import { describe, expect, it } from 'vitest';
import type { HookCall } from '../../src/engine/deps.js';
import { RolloutEngine } from '../../src/engine/rollout.js';
import type { RolloutEvent } from '../../src/engine/types.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { planFromYaml } from '../helpers/plans.js';
import type { Running } from '../proxy/helpers.js';
import { adminRelay, type RelayOptions } from './admin-relay.js';
import { engineOnProxies, fleetOf } from './engine-on-proxies.js';
import { liveFixture, proxyPlan } from './helpers.js';
import { until } from '../helpers/until.js';

const fixture = liveFixture();
const LEASE_MS = 60_000;
const POLL_MS = 250;

const isPromotion = (route: Record<string, unknown>) => route.promotedArm === 'green';

/** A one-stage live rollout (50% green for 1 s) over two proxies on the fake clock, the first behind a relay. */
async function rollout(relayOptions: RelayOptions) {
  const clock = new FakeClock();
  const [relayed, other] = (await fixture.startProxies(2, { now: () => clock.now() })) as [Running, Running];
  const relay = await adminRelay(relayed.proxy.adminUrl as string, relayOptions);
  const plan = planFromYaml(
    `${proxyPlan().replace('green_weight: 0 }', 'green_weight: 0.5 }')}hooks:\n  on_promote: { exec: "true" }\n  on_rollback: { exec: "true" }\n`,
  );
  const fleet = fleetOf([relay.url, other.proxy.adminUrl as string], clock, LEASE_MS, POLL_MS);
  const journal: RolloutEvent[] = [];
  const hooks: HookCall[] = [];
  const deps = engineOnProxies(plan, fleet, clock, journal, {
    runHook: (_hook, call) => {
      hooks.push(call);
      return Promise.resolve({ ok: true, message: 'exited 0' });
    },
  });
  const done = new RolloutEngine(deps).run();
  let finished = false;
  void done.finally(() => (finished = true));
  await until(() => journal.some((event) => event.type === 'stage_started'), 'stage 1 started');
  await clock.advance(1000);
  // The read-back waits on the fake clock: move it a poll at a time until the rollout has ended.
  while (!finished) await clock.advance(POLL_MS);
  return { outcome: await done, journal, hooks: hooks.map((call) => call.event), relay, relayed, other, clock };
}

describe('a promotion whose second step a proxy never confirmed', () => {
  it('ends cleanly promoted (exit 0, no "check by hand") when its route read back shows the promotion', async () => {
    const { outcome, journal, hooks, relay, relayed, other } = await rollout({ drop: (route) => (isPromotion(route) ? 'answer' : undefined) });
    // Every attempt reached the proxy; every answer was lost.
    expect(relay.lost).toBe(3);
    expect(relay.reads).toBeGreaterThan(0);
    expect(outcome).toMatchObject({ phase: 'promoted', exitCode: 0 });
    expect(outcome.reason).not.toContain('check by hand');
    for (const running of [relayed, other]) expect(running.proxy.route.stored.promotedArm).toBe('green');
    expect(hooks).toEqual(['promote']);
    const told = journal.findLast((event) => event.message.startsWith(`proxy ${relay.url}`) && event.type.startsWith('hook_'));
    expect(told).toMatchObject({ type: 'hook_succeeded' });
    expect(told?.message).toContain('its route read back shows the promotion');
  });

  it('rolls back (exit 10) when its route read back shows blue: the promotion never reached it and its lease ran out', async () => {
    const { outcome, hooks, relay, relayed, other, clock } = await rollout({ drop: (route) => (isPromotion(route) ? 'route' : undefined) });
    expect(relay.swallowed).toBe(3);
    expect(outcome).toMatchObject({ phase: 'rolled_back', exitCode: 10 });
    expect(outcome.breach?.rule).toBe('proxy_unreachable');
    expect(outcome.reason).toContain(`proxy ${relay.url} did not take the promotion (`);
    // Read back until its first step's lease had run out (by the proxies' clock, the same fake one): blue.
    expect(outcome.reason).toMatch(/its route read back shows it did not take it: blue \(its lease ran out at (\S+)\)\); rolling every proxy back$/);
    const ranOut = Date.parse(/its lease ran out at ([^)\s]+)\)/.exec(outcome.reason ?? '')?.[1] ?? '');
    expect(clock.now()).toBeGreaterThanOrEqual(ranOut);
    expect(relayed.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    // The other proxy had taken the promotion: the rollback puts it on blue too.
    expect(other.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    expect(other.proxy.route.stored.promotedArm).toBeUndefined();
    expect(hooks).toEqual(['rollback']);
  });

  it('stays promoted with "check by hand" (exit 0) when the proxy answers nothing until its lease has run out', async () => {
    const { outcome, journal, hooks, relay, relayed } = await rollout({ cutAfter: (route) => (isPromotion(route) ? 'lose' : undefined) });
    expect(relay.lost).toBe(1);
    expect(relayed.proxy.route.stored.promotedArm).toBe('green');
    expect(outcome).toMatchObject({ phase: 'promoted', exitCode: 0 });
    expect(outcome.reason).toContain('check by hand that green serves all traffic');
    expect(hooks).toEqual(['promote']);
    const told = journal.find((event) => event.type === 'hook_failed' && event.message.startsWith(`proxy ${relay.url}`));
    expect(told?.message).toMatch(
      /it did not confirm the promotion, nor answer a read of its route until its first step's lease ran out \(\S+\): it serves green if the promotion reached it, else blue/,
    );
  });
});
