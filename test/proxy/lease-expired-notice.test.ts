// The proxy's log line when a rollout's lease runs out names that rollout (its `by`: who, pid, state folder) and
// where to look: it said only "route lease expired without renewal: serving blue", and an operator watching the
// proxy of a shared fleet could not tell which run had stopped renewing, nor that `bluegreen rollback` there
// records a dead one's end.
import { expect, it } from 'vitest';
import { RouteHolder } from '../../src/proxy/route-holder.js';
import { FakeClock } from '../helpers/fake-clock.js';

function holder() {
  const clock = new FakeClock();
  const notices: string[] = [];
  const route = new RouteHolder({
    clock,
    onNotice: (message) => notices.push(message),
    schedule: (ms, check) => {
      const timer = clock.setTimer(check, ms);
      return () => timer.cancel();
    },
  });
  return { clock, route, notices };
}

it("a rollout's lease running out is said with who set it and where its state folder is", async () => {
  const { clock, route, notices } = holder();
  const by = 'ops@ci-3 pid 4242, state folder /srv/app/.bluegreen';
  route.set({ greenWeight: 0.25, mirror: 0, leaseExpiresAt: clock.now() + 5_000, controller: 'run-1', by });
  await clock.advance(5_001);
  expect(route.effective()).toMatchObject({ greenWeight: 0, mirror: 0 });
  expect(notices).toEqual([
    `route lease expired without renewal: serving blue (the rollout that set it, ${by}, stopped renewing it; if it died, bluegreen status in its state folder says so, and bluegreen rollback there records its end)`,
  ]);
});

it('a route set by hand (no controller) says the lapse alone, and a `by` from a hand-edited file is one line', async () => {
  const { clock, route, notices } = holder();
  route.set({ greenWeight: 0.5, mirror: 0, leaseExpiresAt: clock.now() + 1_000 });
  await clock.advance(1_001);
  route.set({ greenWeight: 0.5, mirror: 0, leaseExpiresAt: clock.now() + 1_000, controller: 'run-2', by: 'x\u001b[2J\ny' });
  await clock.advance(1_001);
  expect(notices[0]).toBe('route lease expired without renewal: serving blue');
  expect(notices[1]).toContain('(the rollout that set it, x [2J y, stopped renewing it;');
});
