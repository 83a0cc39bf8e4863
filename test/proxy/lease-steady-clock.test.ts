// A proxy started on a clock with a steady side (a test's, as the real one) times its route's lease on both: the
// steady side was dropped when `now` was given, so on such a clock a wall step back stretched the lease by the step.
import { expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { runProxy, simPlan } from './helpers.js';

it("a route's lease runs out on the steady clock after the wall clock steps back an hour", async () => {
  const clock = new FakeClock();
  const { proxy } = await runProxy(simPlan(), { now: () => clock.now(), steadyNow: () => clock.steadyNow() });
  proxy.route.set({ greenWeight: 0.5, mirror: 0, leaseExpiresAt: clock.now() + 5_000, reason: 'test' });
  expect(proxy.route.effective().greenWeight).toBe(0.5);
  clock.jumpWall(-3_600_000);
  await clock.advance(6_000);
  expect(proxy.route.effective().greenWeight).toBe(0);
});
