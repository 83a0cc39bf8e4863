// review14: the rollback's retries of a proxy that does not answer (381a0c4), at their edges. The actuator drives a
// real proxy through a relay that loses the rollback's first routes to blue (the proxy restarting, or cut off from
// the rollout) on the fake clock.
import { expect, it } from 'vitest';
import { ProxyActuator } from '../../src/live/proxy-actuator.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { planFromYaml } from '../helpers/plans.js';
import type { Running } from '../proxy/helpers.js';
import { adminRelay, type RouteBody } from './admin-relay.js';
import { fleetOf, runClockUntil } from './engine-on-proxies.js';
import { ADMIN_TOKEN, liveFixture, proxyPlan } from './helpers.js';

const fixture = liveFixture();

/** A rollback's route to blue (an ending's). */
const toBlue = (route: RouteBody) => route.greenWeight === 0 && route.ended === true;

/** An actuator on `clock` driving `running` through a relay that loses the first `lost` routes to blue, `meanwhile` running as the last is lost. */
async function rollbackMissing(running: Running, clock: FakeClock, lost: number, meanwhile: () => Promise<void> = () => Promise.resolve()) {
  let missed = 0;
  const relay = await adminRelay(running.proxy.adminUrl as string, {
    before: async (route) => {
      if (toBlue(route) && missed === lost - 1) await meanwhile();
    },
    drop: (route) => (toBlue(route) && missed++ < lost ? 'route' : undefined),
  });
  const fleet = fleetOf([relay.url], clock, 60_000, 250);
  const actuator = new ProxyActuator(planFromYaml(proxyPlan()), fleet, clock);
  expect(await actuator.applyStage({ stage: 0, stages: 2, greenWeight: 0.5 })).toMatchObject([{ ok: true }]);
  const [ending] = await runClockUntil(clock, actuator.applyEnding({ event: 'rollback', stage: 0, stages: 2, greenWeight: 0.5, reason: 'breach' }));
  return ending;
}

// Fixed with this test: the retries went over a route set by someone else while the proxy did not answer the
// rollout (an operator on the proxy's side of a partition promoting by hand, or another rollout once the lease
// ran out): for up to a minute after the rollout began ending, its stale blue landed over that newer route. The
// first attempts still go over any route (every ending puts the proxy on blue, whoever set it before); a retry goes
// on only from this run's own route (its saved stage route after a restart, or its lease's lapse).
it("a retry of the rollback's blue does not land over a route someone set meanwhile", async () => {
  const [running] = (await fixture.startProxies(1)) as [Running];
  const byHand = { greenWeight: 1, mirror: 0, promotedArm: 'green', reason: 'operator: promoted by hand' };
  const ending = await rollbackMissing(running, new FakeClock(Date.now()), 3, async () => {
    const answer = await fetch(`${running.proxy.adminUrl as string}/admin/route`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(byHand),
    });
    expect(answer.status).toBe(200);
  });
  expect(running.proxy.route.stored).toMatchObject(byHand);
  // The rollout does not say "back on blue": it names the route it found.
  expect(ending).toMatchObject({ ok: false });
  expect(ending?.message).toContain('the route was changed since this rollout set it: promoted green (operator: promoted by hand)');
});

it('a retry still puts a proxy back on blue that came back on its own saved route', async () => {
  const [running] = (await fixture.startProxies(1)) as [Running];
  const ending = await rollbackMissing(running, new FakeClock(Date.now()), 4);
  expect(ending).toMatchObject({ ok: true, message: 'back on blue' });
  expect(running.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
});

// review14 (LOW, fixed by the lead): the retries lasted until the lease the proxy last reported, compared with the
// rollout's own clock: a rollout whose clock ran ahead of the proxy's by more than the lease never retried. The
// lease's end is now counted on the rollout's clock from when it last sent green (which also covers a rollout
// interrupted before the proxy's first answer, flaky14: it never heard a lease at all).
it("a rollout whose clock is ahead of the proxy's by more than the lease still retries", async () => {
  const [running] = (await fixture.startProxies(1)) as [Running];
  const ending = await rollbackMissing(running, new FakeClock(Date.now() + 5 * 60_000), 3);
  expect(ending).toMatchObject({ ok: true, message: 'back on blue' });
  expect(running.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
});
