// A promotion one proxy declines (an operator put it on blue by hand after the last renewal, or it does not answer)
// ends the rollout rolled back, exit 10, as a renewal refused, or a proxy silent, does: "promoted" means every
// proxy serves green. Every proxy ends on blue: the one that took the promotion's first step (all green under a
// lease) goes back, and so does one whose route an operator set by hand (as after a renewal refused); on_promote
// never runs, on_rollback does. A proxy lost after the first step returns to blue by its lease; one lost after the
// promotion itself is read back (promotion-read-back.test.ts). The engine drives two real proxies on the fake
// clock, one of them behind a relay that loses answers.
import { describe, expect, it } from 'vitest';
import type { HookCall } from '../../src/engine/deps.js';
import { RolloutEngine } from '../../src/engine/rollout.js';
import type { RolloutEvent } from '../../src/engine/types.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { planFromYaml } from '../helpers/plans.js';
import type { Running } from '../proxy/helpers.js';
import { adminRelay } from './admin-relay.js';
import { engineOnProxies, fleetOf, runClockUntil } from './engine-on-proxies.js';
import { liveFixture, proxyPlan, putRoute } from './helpers.js';
import { until } from '../helpers/until.js';

const fixture = liveFixture();

const HOOKS = `hooks:\n  on_promote: { exec: "true" }\n  on_rollback: { exec: "true" }\n`;

/**
 * Runs a one-stage live rollout (50% green for 1 s) over the proxies; `beforeEnd` acts while the stage runs.
 * `adminUrls` replaces the proxies' own admin URLs (a relay in front of one).
 */
async function rollout(proxies: Running[], beforeEnd: () => Promise<void>, adminUrls?: string[]) {
  const clock = new FakeClock();
  const plan = planFromYaml(proxyPlan().replace('green_weight: 0 }', 'green_weight: 0.5 }') + HOOKS);
  const fleet = fleetOf(adminUrls ?? proxies.map((running) => running.proxy.adminUrl as string), clock, 60_000, 250);
  const journal: RolloutEvent[] = [];
  const hooks: HookCall[] = [];
  const deps = engineOnProxies(plan, fleet, clock, journal, {
    // Each hook takes 40 ms of the fake clock: the journal's times must still never go back.
    runHook: async (_hook, call) => {
      hooks.push(call);
      await clock.advance(40);
      return { ok: true, message: 'exited 0 in 40ms' };
    },
  });
  const engine = new RolloutEngine(deps);
  const done = engine.run();
  await until(() => proxies.every((running) => running.proxy.route.effective().greenWeight === 0.5), 'stage 1 on every proxy');
  // The stage's clock starts once the engine has every proxy's answer (a relay's may come after the proxy took it).
  await until(() => journal.some((event) => event.type === 'stage_started'), 'stage 1 started');
  await beforeEnd();
  // The stage's time is up long before the lease's first renewal (20 s): nothing was refused before the promotion.
  await clock.advance(1000);
  // A rollback tries a proxy that does not answer again until its lease runs out (at most a minute).
  const outcome = await runClockUntil(clock, done);
  const times = journal.map((event) => event.at);
  expect(times).toEqual([...times].sort((a, b) => a - b));
  return { outcome, journal, hooks: hooks.map((call) => call.event), snapshot: engine.snapshot() };
}

describe('a promotion a proxy declines', () => {
  it('rolls back (exit 10): never promoted over the route set by hand, then every proxy on blue, on_rollback runs', async () => {
    const [byHand, other] = (await fixture.startProxies(2)) as [Running, Running];
    const { outcome, journal, hooks, snapshot } = await rollout([byHand, other], () =>
      putRoute(byHand, { greenWeight: 0.2, mirror: 0, ttlMs: 600_000, reason: 'operator: holding at 20%' }),
    );
    expect(outcome).toMatchObject({ phase: 'rolled_back', exitCode: 10 });
    expect(outcome.breach?.rule).toBe('hook');
    expect(outcome.reason).toContain(`proxy ${byHand.proxy.adminUrl as string} did not take the promotion`);
    expect(outcome.reason).toContain('the route was changed since this rollout set it: green 20%, mirror 0% (operator: holding at 20%)');
    // Never promoted over the operator's route; the rollback puts it on blue, as after a renewal refused.
    expect(byHand.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    expect(byHand.proxy.route.stored.promotedArm).toBeUndefined();
    // The other proxy took the first step (all green under a lease), then went back to blue with the rollback.
    expect(other.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    expect(other.proxy.route.stored.promotedArm).toBeUndefined();
    expect(hooks).toEqual(['rollback']);
    const types = journal.map((event) => event.type);
    expect(types).not.toContain('promoted');
    expect(types.slice(types.indexOf('stage_passed'))).toEqual([
      'stage_passed',
      'hook_succeeded', // the other proxy: all green under a lease
      'breach',
      'rolled_back',
      'hook_succeeded', // the proxy that declined: back on blue
      'hook_succeeded', // the other proxy: back on blue
      'hook_succeeded', // on_rollback
      'drained',
      'finished',
    ]);
    expect(journal.at(-1)?.message).toMatch(/did not take the promotion .*; rolling every proxy back \(exit 10\)$/);
    expect(snapshot).toMatchObject({ phase: 'rolled_back', exitCode: 10, greenWeight: 0 });
  });

  it('rolls back (exit 10, proxy_unreachable) when a proxy does not answer the promotion: it serves blue once its lease runs out', async () => {
    const [silent, other] = (await fixture.startProxies(2)) as [Running, Running];
    const { outcome, hooks, journal } = await rollout([silent, other], () => silent.close());
    expect(outcome).toMatchObject({ phase: 'rolled_back', exitCode: 10 });
    expect(outcome.breach?.rule).toBe('proxy_unreachable');
    expect(outcome.reason).toContain(`proxy ${silent.proxy.adminUrl as string} did not take the promotion (`);
    expect(outcome.reason).toMatch(/its lease runs out at \S+ and it returns to blue on its own\); rolling every proxy back, but /);
    // Telling it blue failed too: the reason says so (as the journal's finished line and the reports do), not "back on blue".
    // What failed, then which proxy to check and what is known of it: its lease returns it to blue.
    expect(outcome.reason).toMatch(
      /, but putting traffic back on blue failed \(proxy (\S+): [^;]*\): check by hand that proxy \1 serves blue \(GET \/admin\/route\); it was left to its lease, which runs out at \S+; then, if it runs, it serves blue on its own$/,
    );
    expect(other.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    expect(other.proxy.route.stored.promotedArm).toBeUndefined();
    expect(hooks).toEqual(['rollback']);
    // Told blue in vain: at most it took the first step, whose lease returns it to blue.
    const told = journal.find((event) => event.type === 'hook_failed' && event.message.startsWith(`proxy ${silent.proxy.adminUrl as string}`));
    expect(told?.message).toMatch(/; its lease runs out at \S+ and it returns to blue on its own$/);
  });

  it('promotes (exit 0) when every proxy takes it, saying so before the proxies report', async () => {
    const proxies = await fixture.startProxies(2);
    const { outcome, journal, hooks } = await rollout(proxies, () => Promise.resolve());
    expect(outcome).toMatchObject({ phase: 'promoted', exitCode: 0 });
    // The promotion is this run's last route: nothing of it still on its way (a late renewal) goes on from it.
    for (const running of proxies) expect(running.proxy.route.stored).toMatchObject({ promotedArm: 'green', ended: true });
    expect(hooks).toEqual(['promote']);
    const types = journal.map((event) => event.type);
    expect(types.slice(types.indexOf('stage_passed'))).toEqual([
      'stage_passed',
      'promoted',
      'hook_succeeded',
      'hook_succeeded',
      'hook_succeeded',
      'drained',
      'finished',
    ]);
  });

  it('rolls back when a proxy takes the first step and its answer is lost: it holds green only under a lease', async () => {
    const [lossy, other] = (await fixture.startProxies(2)) as [Running, Running];
    const relay = await adminRelay(lossy.proxy.adminUrl as string, { cutAfter: (route) => (route.greenWeight === 1 ? 'lose' : undefined) });
    const { outcome, journal } = await rollout([lossy, other], () => Promise.resolve(), [relay.url, other.proxy.adminUrl as string]);
    expect(relay.lost).toBe(1);
    expect(outcome).toMatchObject({ phase: 'rolled_back', exitCode: 10 });
    expect(outcome.breach?.rule).toBe('proxy_unreachable');
    // Behind the relay it took all green, but under a lease: no promotion it could keep for good.
    const held = lossy.proxy.route.stored;
    expect(held).toMatchObject({ greenWeight: 1 });
    expect(held.promotedArm).toBeUndefined();
    expect(held.leaseExpiresAt).toBeGreaterThan(Date.now());
    expect(other.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    expect(journal.map((event) => event.type)).not.toContain('promoted');
  });
});
