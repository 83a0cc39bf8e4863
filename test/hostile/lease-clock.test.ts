// A proxy's lease against a wall clock set back (found by hostile12): the lease was `leaseExpiresAt` on the wall
// clock alone, so a step back (an NTP correction, a VM resumed with an old clock) while a rollout was dead kept
// green in the route for as long as the step, not the lease. It is now also timed on a steady clock.
import { expect, it } from 'vitest';
import { RouteHolder } from '../../src/proxy/route-holder.js';

function clocks() {
  const time = { wall: 1_800_000_000_000, steady: 50_000 };
  const timers: { at: number; run: () => void }[] = [];
  const notices: string[] = [];
  const route = new RouteHolder({
    clock: { now: () => time.wall, steadyNow: () => time.steady },
    onNotice: (message) => notices.push(message),
    // Node's timers run on the steady clock.
    schedule: (ms, check) => {
      const timer = { at: time.steady + ms, run: check };
      timers.push(timer);
      return () => timers.splice(timers.indexOf(timer), 1);
    },
  });
  const pass = (ms: number, wallStep = 0) => {
    time.steady += ms;
    time.wall += ms + wallStep;
    for (const timer of timers.filter((t) => t.at <= time.steady)) {
      timers.splice(timers.indexOf(timer), 1);
      timer.run();
    }
  };
  return { time, route, pass, notices };
}

it('a wall clock set back an hour does not stretch a 5 s lease: the proxy is on blue 5 s later, and says so', () => {
  const { time, route, pass, notices } = clocks();
  route.set({ greenWeight: 0.5, mirror: 0, leaseExpiresAt: time.wall + 5000 });
  pass(1000, -3_600_000); // the rollout is killed, and the wall clock steps back an hour
  expect(route.effective().greenWeight).toBe(0.5);
  pass(4001);
  // By the wall clock alone the lease has 59 minutes to go: green took its share all that time.
  expect(time.wall).toBeLessThan(route.stored.leaseExpiresAt ?? Infinity);
  expect(route.effective()).toMatchObject({ greenWeight: 0, mirror: 0 });
  expect(notices).toEqual(['route lease expired without renewal: serving blue']);
});

it('a renewal starts the steady count again, and a wall clock set forward still ends a lease early (toward blue)', () => {
  const { time, route, pass } = clocks();
  route.set({ greenWeight: 0.5, mirror: 0, leaseExpiresAt: time.wall + 5000 });
  pass(4000);
  route.set({ greenWeight: 0.5, mirror: 0, leaseExpiresAt: time.wall + 5000 });
  pass(4000);
  expect(route.effective().greenWeight).toBe(0.5);
  pass(10, 60_000);
  expect(route.effective().greenWeight).toBe(0);
});

it('a promotion has no lease, and no steady clock ends it', () => {
  const { route, pass } = clocks();
  route.set({ greenWeight: 1, mirror: 0, promotedArm: 'green' });
  pass(3_600_000, -3_600_000);
  expect(route.effective().greenWeight).toBe(1);
});

// A clock with no steady reading (a test's fake clock, the only time there is) times the lease by its wall clock
// alone (core/clock.ts steadyNow): set back, the lease runs that much longer.
it('a clock without a steady reading times a lease by its wall clock alone', () => {
  let wall = 1_800_000_000_000;
  const route = new RouteHolder({ clock: { now: () => wall }, schedule: () => () => undefined });
  route.set({ greenWeight: 0.5, mirror: 0, leaseExpiresAt: wall + 5000 });
  wall -= 60_000;
  wall += 64_999;
  expect(route.effective().greenWeight).toBe(0.5);
  wall += 1;
  expect(route.effective().greenWeight).toBe(0);
});
