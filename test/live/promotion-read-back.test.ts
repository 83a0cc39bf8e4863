// review10 / leftalone11: a proxy that took the promotion's first step and never confirmed the second ended the
// rollout promoted (exit 0) with "check by hand", whether or not the promotion reached it. Now its route is read
// back (GET /admin/route) until its first step's lease would have run out: shown promoted, the rollout ends cleanly
// promoted; shown blue (the lease ran out: the promotion never reached it), the rollout rolls back (exit 10, as for a
// proxy that did not take the first step) rather than say "promoted" while that proxy serves blue. Silent all along,
// it stays in doubt (exit 0, check by hand: a rollback it also missed could leave it on green for good). The engine and
// two real proxies share the fake clock, so the proxies' leases run out with the rollout's time. The clock moves only
// while the rollout waits on it alone (runClockUntil), never during an admin call: the promotion follows its first
// step with the lease still running, so each read back starts under that lease (tests31b: a clock moved a poll at a
// time whatever was under way let ~72 fake seconds pass between the two steps on a loaded machine, the lease lapsed
// before the first read, and a read back that read once would have passed).
import { describe, expect, it } from 'vitest';
import type { HookCall } from '../../src/engine/deps.js';
import { RolloutEngine } from '../../src/engine/rollout.js';
import type { RolloutEvent } from '../../src/engine/types.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { planFromYaml } from '../helpers/plans.js';
import type { Running } from '../proxy/helpers.js';
import { adminRelay, type RelayOptions, type RouteBody } from './admin-relay.js';
import { engineOnProxies, fleetOf, runClockUntil } from './engine-on-proxies.js';
import { liveFixture, proxyPlan } from './helpers.js';

const fixture = liveFixture();
// On the fake clock, but each fake second of a read back until the lease runs out costs real polls of both proxies
// (4 a second): 20 s, not 60 s, took 2-3 s less in each test that waits the lease out.
const LEASE_MS = 20_000;
const POLL_MS = 250;

const isPromotion = (route: RouteBody) => route.promotedArm === 'green';
const isFirstStep = (route: RouteBody) => route.greenWeight === 1 && route.promotedArm === undefined;

/**
 * A one-stage live rollout (50% green for 1 s) over two proxies on the fake clock, the first behind a relay. Notes
 * when (the fake clock) the relayed proxy's promotion steps reached the relay, and what each read of its route showed.
 */
async function rollout(relayOptions: RelayOptions) {
  const clock = new FakeClock();
  const [relayed, other] = (await fixture.startProxies(2, { now: () => clock.now() })) as [Running, Running];
  const sent = { firstStep: [] as number[], promotion: [] as number[] };
  const reads: { at: number; greenWeight: unknown }[] = [];
  const relay = await adminRelay(relayed.proxy.adminUrl as string, {
    ...relayOptions,
    before: (route) => {
      if (isFirstStep(route)) sent.firstStep.push(clock.now());
      if (isPromotion(route)) sent.promotion.push(clock.now());
      return Promise.resolve();
    },
    onRead: (answer) => reads.push({ at: clock.now(), greenWeight: (answer.effective as RouteBody | undefined)?.greenWeight }),
  });
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
  const outcome = await runClockUntil(clock, new RolloutEngine(deps).run(), POLL_MS);
  // The first step went once, and the promotion (each attempt) before that step's lease ran out on the proxy.
  expect(sent.firstStep).toHaveLength(1);
  const leaseEnds = (sent.firstStep[0] as number) + LEASE_MS;
  expect(sent.promotion.length).toBeGreaterThan(0);
  for (const at of sent.promotion) expect(at).toBeLessThan(leaseEnds);
  const ended = journal.find((event) => event.type === 'finished')?.at as number;
  return { outcome, journal, hooks: hooks.map((call) => call.event), relay, relayed, other, clock, reads, leaseEnds, ended };
}

describe('a promotion whose second step a proxy never confirmed', () => {
  it('ends cleanly promoted (exit 0, no "check by hand") when its route read back shows the promotion', async () => {
    const { outcome, journal, hooks, relay, relayed, other, reads, leaseEnds, ended } = await rollout({
      drop: (route) => (isPromotion(route) ? 'answer' : undefined),
    });
    // Every attempt reached the proxy; every answer was lost.
    expect(relay.lost).toBe(3);
    // One read, at once, under the first step's lease, showed the promotion: the rollout did not wait for the lease.
    expect(reads).toEqual([{ at: expect.any(Number) as number, greenWeight: 1 }]);
    expect(reads[0]?.at).toBeLessThan(leaseEnds);
    expect(ended).toBeLessThan(leaseEnds);
    expect(outcome).toMatchObject({ phase: 'promoted', exitCode: 0 });
    expect(outcome.reason).not.toContain('check by hand');
    for (const running of [relayed, other]) expect(running.proxy.route.stored.promotedArm).toBe('green');
    expect(hooks).toEqual(['promote']);
    const told = journal.findLast((event) => event.message.startsWith(`proxy ${relay.url}`) && event.type.startsWith('hook_'));
    expect(told).toMatchObject({ type: 'hook_succeeded' });
    expect(told?.message).toContain('its route read back shows the promotion');
  });

  it('rolls back (exit 10) when its route read back shows blue: the promotion never reached it and its lease ran out', async () => {
    const { outcome, hooks, relay, relayed, other, reads, leaseEnds, ended } = await rollout({
      drop: (route) => (isPromotion(route) ? 'route' : undefined),
    });
    expect(relay.swallowed).toBe(3);
    expect(outcome).toMatchObject({ phase: 'rolled_back', exitCode: 10 });
    expect(outcome.breach?.rule).toBe('proxy_unreachable');
    expect(outcome.reason).toContain(`proxy ${relay.url} did not take the promotion (`);
    // Read back from under the first step's lease (all green, no promotion yet: a late one might land) until that
    // lease had run out (by the proxies' clock, the same fake one), which the last read showed: blue.
    expect(outcome.reason).toMatch(/its route read back shows it did not take it: blue \(its lease ran out at (\S+)\)\); rolling every proxy back$/);
    const ranOut = Date.parse(/its lease ran out at ([^)\s]+)\)/.exec(outcome.reason ?? '')?.[1] ?? '');
    expect(reads[0]).toEqual({ at: expect.any(Number) as number, greenWeight: 1 });
    expect(reads[0]?.at).toBeLessThan(ranOut);
    expect(reads.at(-1)?.greenWeight).toBe(0);
    expect(reads.at(-1)?.at).toBeGreaterThanOrEqual(ranOut);
    expect(ended).toBeGreaterThanOrEqual(leaseEnds);
    expect(relayed.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    // The other proxy had taken the promotion: the rollback puts it on blue too.
    expect(other.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    expect(other.proxy.route.stored.promotedArm).toBeUndefined();
    expect(hooks).toEqual(['rollback']);
  });

  it('stays promoted with "check by hand" (exit 0) when the proxy answers nothing until its lease has run out', async () => {
    const { outcome, journal, hooks, relay, relayed, reads, leaseEnds, ended } = await rollout({
      cutAfter: (route) => (isPromotion(route) ? 'lose' : undefined),
    });
    expect(relay.lost).toBe(1);
    expect(relayed.proxy.route.stored.promotedArm).toBe('green');
    // Nothing answered, and the rollout went on reading until the first step's lease had run out.
    expect(reads).toEqual([]);
    expect(ended).toBeGreaterThanOrEqual(leaseEnds);
    expect(outcome).toMatchObject({ phase: 'promoted', exitCode: 0 });
    expect(outcome.reason).toContain('check by hand that green serves all traffic');
    expect(hooks).toEqual(['promote']);
    const told = journal.find((event) => event.type === 'hook_failed' && event.message.startsWith(`proxy ${relay.url}`));
    expect(told?.message).toMatch(
      /it did not confirm the promotion, nor answer a read of its route until its first step's lease ran out \(\S+\): it serves green if the promotion reached it, else blue/,
    );
  });
});
