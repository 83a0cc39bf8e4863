// The proxies as an actuator, against real proxies: a stage's route that a proxy does not take fails the stage
// under an honest rule (proxy_unreachable for no answer, hook for a refusal), never silently.
import { afterEach, describe, expect, it } from 'vitest';
import { ProxyFleet } from '../../src/live/fleet.js';
import { ProxyActuator } from '../../src/live/proxy-actuator.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { planFromYaml } from '../helpers/plans.js';
import type { Running } from '../proxy/helpers.js';
import { ADMIN_TOKEN, freePort, proxyPlan, startProxies } from './helpers.js';

let proxies: Running[] = [];
let fleet: ProxyFleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
  for (const proxy of proxies) await proxy.close();
  proxies = [];
});

describe('ProxyActuator stage moves', () => {
  it('names a proxy that does not answer proxy_unreachable and one that refuses hook; the others take the route', async () => {
    proxies = await startProxies(1);
    const running = proxies[0] as Running;
    const clock = new FakeClock();
    const plan = planFromYaml(proxyPlan());
    const silent = `http://127.0.0.1:${await freePort()}`;
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
});
