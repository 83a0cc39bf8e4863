// The proxies as an actuator, against real proxies: a stage's route that a proxy does not take fails the stage
// under an honest rule (proxy_unreachable for no answer, hook for a refusal), never silently; a renewal asked for at
// once (a proxy restarted) never follows the ending.
import { afterEach, describe, expect, it } from 'vitest';
import { ProxyFleet, type FleetProxy } from '../../src/live/fleet.js';
import { ProxyActuator } from '../../src/live/proxy-actuator.js';
import { MAX_ROUTE_REASON } from '../../src/proxy/route.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { planFromYaml } from '../helpers/plans.js';
import type { Running } from '../proxy/helpers.js';
import { eventLoopTurns } from '../helpers/turns.js';
import { ADMIN_TOKEN, liveFixture, proxyPlan, refusedPort, writeRolloutPlan } from './helpers.js';
import { openLiveControl } from '../../src/live/controller.js';
import { loadPlan } from '../../src/plan/load.js';
import path from 'node:path';
import { until } from '../helpers/until.js';

const fixture = liveFixture();
let fleet: ProxyFleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

/** A proxy driven by a fresh fleet and actuator, its first stage's route set by them. */
async function drivenProxy(stages: number): Promise<{ running: Running; actuator: ProxyActuator }> {
  const [running] = (await fixture.startProxies(1)) as [Running];
  const clock = new FakeClock();
  fleet = new ProxyFleet([running.proxy.adminUrl as string], ADMIN_TOKEN, clock, 60_000, 250);
  const actuator = new ProxyActuator(planFromYaml(proxyPlan()), fleet, clock);
  await actuator.applyStage({ stage: 0, stages, greenWeight: 0.5 });
  return { running, actuator };
}

/** What docs/proxy.md shows an operator to put a proxy back on blue at once. */
async function blueByHand(running: Running): Promise<void> {
  const byHand = await fetch(`${running.proxy.adminUrl as string}/admin/route`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ greenWeight: 0, mirror: 0, reason: 'operator: emergency stop' }),
  });
  expect(byHand.status).toBe(200);
}

describe('ProxyActuator stage moves', () => {
  // Before (live22): a route an operator set by hand before the rollout started was replaced by its first stage's
  // without a word in the journal; status and the report could not say whose decision the rollout overrode.
  it("says (so the journal keeps) the route set by hand that the first stage's route replaced, and only then", async () => {
    const [running] = (await fixture.startProxies(1)) as [Running];
    const canary = await fetch(`${running.proxy.adminUrl as string}/admin/route`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ greenWeight: 0.3, mirror: 0, ttlMs: 600_000, reason: 'operator: canary by hand' }),
    });
    expect(canary.status).toBe(200);
    const dir = writeRolloutPlan({ stages: ['{ duration: 1m, green_weight: 0.5 }', '{ duration: 1m, green_weight: 1 }'] }, [running]);
    const live = await openLiveControl({
      plan: loadPlan(path.join(dir, 'plan.yaml'), dir),
      stateDir: path.join(dir, '.bluegreen'),
      env: { ADMIN_TOKEN },
      clock: new FakeClock(Date.now()),
    });
    fleet = live.fleet;
    const [first] = await live.actuator.applyStage({ stage: 0, stages: 2, greenWeight: 0.5 });
    expect(first?.message).toMatch(
      /^green 50%, mirror 0%, lease [\d.]+m?s; it replaced a route set by hand or by an older bluegreen \(no run id\) at \d{4}-\S+Z: green 30%, mirror 0% \(operator: canary by hand\)$/,
    );
    const [second] = await live.actuator.applyStage({ stage: 1, stages: 2, greenWeight: 1 });
    expect(second?.message).toMatch(/^green 100%, mirror 0%, lease [\d.]+m?s$/);
    await live.actuator.cancel();
  });

  it('names a proxy that does not answer proxy_unreachable and one that refuses hook; the others take the route', async () => {
    const [running] = (await fixture.startProxies(1)) as [Running];
    const clock = new FakeClock();
    const plan = planFromYaml(proxyPlan());
    const silent = `http://127.0.0.1:${await refusedPort()}`;
    fleet = new ProxyFleet([running.proxy.adminUrl as string, silent], ADMIN_TOKEN, clock, 5000, 250);
    const results = await new ProxyActuator(plan, fleet, clock).applyStage({ stage: 0, stages: 1, greenWeight: 0.5 });
    expect(results[0]).toMatchObject({ ok: true, label: `proxy ${running.proxy.adminUrl as string}` });
    expect(results[1]).toMatchObject({ ok: false, label: `proxy ${silent}`, rule: 'proxy_unreachable' });
    expect(running.proxy.route.effective().greenWeight).toBe(0.5);

    const wrongToken = new ProxyFleet([running.proxy.adminUrl as string], 'not-the-token', clock, 5000, 250);
    try {
      const [refused] = await new ProxyActuator(plan, wrongToken, clock).applyStage({ stage: 0, stages: 1, greenWeight: 1 });
      expect(refused).toMatchObject({ ok: false, rule: 'hook' });
      expect(refused?.message).toContain('answered 401');
    } finally {
      await wrongToken.close();
    }
  });

  it('renews at once when asked (a proxy restarted), but never after the ending: no renewal reopens green', async () => {
    const [running] = (await fixture.startProxies(1)) as [Running];
    const clock = new FakeClock();
    fleet = new ProxyFleet([running.proxy.adminUrl as string], ADMIN_TOKEN, clock, 60_000, 250);
    const actuator = new ProxyActuator(planFromYaml(proxyPlan()), fleet, clock);
    await actuator.applyStage({ stage: 0, stages: 1, greenWeight: 0.5 });
    // The proxy went back to blue on its own (restarted after its lease ran out): renewNow puts the stage's back.
    running.proxy.route.set({ ...running.proxy.route.stored, leaseExpiresAt: Date.now() - 1 });
    expect(running.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    actuator.renewNow();
    await until(() => running.proxy.route.effective().greenWeight === 0.5, 'the renewal');
    await actuator.applyEnding({ event: 'rollback', stage: 0, stages: 1, greenWeight: 0.5, reason: 'test' });
    actuator.renewNow();
    await eventLoopTurns(50);
    expect(running.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    expect(running.proxy.route.stored.reason).toBe('rollback: test');
  });

  it("cuts a long ending's reason with an ellipsis where the route keeps it, never mid-word without a mark", async () => {
    const { running, actuator } = await drivenProxy(1);
    const reason = `nothing was judged in any of its 4 stages (${'stage N: green answered 0 requests, under analysis.min_requests (10); '.repeat(5)})`;
    await actuator.applyEnding({ event: 'rollback', stage: 0, stages: 1, greenWeight: 0.5, reason });
    const stored = running.proxy.route.stored.reason as string;
    expect(stored).toHaveLength(MAX_ROUTE_REASON);
    expect(stored.startsWith('rollback: nothing was judged in any of its 4 stages (stage N:')).toBe(true);
    expect(stored.endsWith('…')).toBe(true);
  });

  it("never overrides a route someone else set since (an operator's blue by hand): the renewal and the next stage are refused, the ending goes", async () => {
    const { running, actuator } = await drivenProxy(2);
    await blueByHand(running);
    const proxy = (fleet as ProxyFleet).proxies[0] as FleetProxy;
    actuator.renewNow();
    await until(() => proxy.refusal !== undefined, 'the renewal refused');
    expect(proxy.refusal).toContain('answered 409: the route was changed since this rollout set it: green 0%, mirror 0% (operator: emergency stop)');
    // It answered: reachable, refusing with its reason (it was marked unreachable, no silence to wait out all the same).
    expect(proxy.view).toMatchObject({ reachable: true, refused: proxy.refusal });
    expect(proxy.view.unreachableSince).toBeUndefined();
    expect(proxy.silentFor()).toBe(0);
    const [next] = await actuator.applyStage({ stage: 1, stages: 2, greenWeight: 1 });
    expect(next).toMatchObject({ ok: false, rule: 'hook' });
    expect(running.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    const [ending] = await actuator.applyEnding({ event: 'rollback', stage: 1, stages: 2, greenWeight: 0.5, reason: 'refused' });
    expect(ending).toMatchObject({ ok: true });
  });

  it("never promotes over a route someone else set since: an operator's blue just before the last stage ended stays", async () => {
    const { running, actuator } = await drivenProxy(1);
    // The operator's emergency blue reaches the proxy before any renewal could be refused.
    await blueByHand(running);
    const [ending] = await actuator.applyEnding({ event: 'promote', stage: 0, stages: 1, greenWeight: 0.5, reason: 'all stages passed' });
    // Declined: the engine rolls back instead (test/live/promotion-declined.test.ts).
    expect(ending).toMatchObject({ ok: false, declined: true, label: `proxy ${running.proxy.adminUrl as string}` });
    expect(ending?.message).toContain('the route was changed since this rollout set it');
    expect(ending?.message).toContain('it keeps that route until the rollback');
    expect(running.proxy.route.stored.reason).toBe('operator: emergency stop');
    // The rollback that follows puts it on blue, as every rollback does (fail toward blue).
    const [rollback] = await actuator.applyEnding({ event: 'rollback', stage: 0, stages: 1, greenWeight: 0, reason: 'declined' });
    expect(rollback).toMatchObject({ ok: true, message: 'back on blue' });
    expect(running.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    expect(running.proxy.route.stored.reason).toBe('rollback: declined');
  });

  it('promotes a proxy whose route is still its own', async () => {
    const { running, actuator } = await drivenProxy(1);
    const [ending] = await actuator.applyEnding({ event: 'promote', stage: 0, stages: 1, greenWeight: 0.5, reason: 'all stages passed' });
    expect(ending).toMatchObject({ ok: true });
    expect(running.proxy.route.stored.promotedArm).toBe('green');
  });

  it('two rollouts reaching stage 1 at once (both past their preflight): the second is refused and its rollback leaves the first alone', async () => {
    const { running, actuator } = await drivenProxy(2);
    const clock = new FakeClock();
    const second = new ProxyFleet([running.proxy.adminUrl as string], ADMIN_TOKEN, clock, 60_000, 250);
    try {
      const other = new ProxyActuator(planFromYaml(proxyPlan()), second, clock);
      const [refused] = await other.applyStage({ stage: 0, stages: 2, greenWeight: 0.2 });
      expect(refused).toMatchObject({ ok: false, rule: 'hook' });
      expect(refused?.message).toContain('answered 409: another rollout drives this proxy until its lease runs out at ');
      const [rollback] = await other.applyEnding({ event: 'rollback', stage: 0, stages: 2, greenWeight: 0.2, reason: 'refused' });
      expect(rollback).toMatchObject({ ok: true, message: 'left as it is: another rollout drives it, and this rollout never set its route' });
      expect(running.proxy.route.effective()).toMatchObject({ greenWeight: 0.5, mirror: 0 });
      // The first goes on: its next stage and its promotion are its own.
      expect(await actuator.applyStage({ stage: 1, stages: 2, greenWeight: 1 })).toMatchObject([{ ok: true }]);
      expect(await actuator.applyEnding({ event: 'promote', stage: 1, stages: 2, greenWeight: 1, reason: 'all stages passed' })).toMatchObject([{ ok: true }]);
      expect(running.proxy.route.stored.promotedArm).toBe('green');
    } finally {
      await second.close();
    }
  });
});
