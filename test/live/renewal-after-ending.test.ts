// review10: a stage's route still on its way when the rollout starts to end (Ctrl-C, an abort or a breach during the
// move to the next stage). The ending stops the renewals; the stage move that finishes after it must not start them
// again, or the rollout goes on renewing the stage's green (and a proxy that missed the ending is kept on green).
// Found by review10: applyStage started the renewal timer again after the ending had stopped it.
import { expect, it } from 'vitest';
import { ProxyActuator } from '../../src/live/proxy-actuator.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { planFromYaml } from '../helpers/plans.js';
import type { Running } from '../proxy/helpers.js';
import { fleetOf } from './engine-on-proxies.js';
import { liveFixture, proxyPlan } from './helpers.js';

const fixture = liveFixture();

it('sends no renewal after the ending, even when a stage move was still under way as the ending began', async () => {
  const [proxy] = (await fixture.startProxies(1)) as [Running];
  const clock = new FakeClock();
  const plan = planFromYaml(proxyPlan().replace('green_weight: 0 }', 'green_weight: 0.5 }'));
  const fleet = fleetOf([proxy.proxy.adminUrl as string], clock, 3000, 250);
  const actuator = new ProxyActuator(plan, fleet, clock);
  // The stage's route leaves; before its answer is back, the rollout is interrupted.
  const stage = actuator.applyStage({ stage: 0, stages: 1, greenWeight: 0.5 });
  await actuator.cancel();
  const ending = actuator.applyEnding({ event: 'rollback', stage: 0, stages: 1, greenWeight: 0, reason: 'interrupted by SIGINT' });
  expect((await stage).every((result) => result.ok)).toBe(true);
  expect((await ending).every((result) => result.ok)).toBe(true);
  expect(proxy.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
  // Nothing of this run is left to fire: a renewal now would go on renewing the stage's green (a proxy that took
  // the ending refuses it, 409: ended; one that missed the ending would be kept on green).
  expect(clock.pendingTimers()).toBe(0);
});
