// A live rollout's intervals are timed on the steady clock: the wall clock an operator, NTP or a resumed VM steps must
// not cut or stretch them. Before session 21, a proxy's silence was measured on the wall clock: a step forward of an
// hour during a one-poll blip read as an hour of silence, past any lease, and the rollout rolled back every proxy on
// `proxy_unreachable`; a step back hid a real silence for an hour.
import { expect, it } from 'vitest';
import { AdminClient } from '../../src/live/admin-client.js';
import { FleetProxy } from '../../src/live/fleet.js';
import { FakeClock } from '../helpers/fake-clock.js';

const HOUR = 3_600_000;

it("a proxy's silence is measured on the steady clock, whichever way the wall clock steps", async () => {
  const clock = new FakeClock();
  const proxy = new FleetProxy(new AdminClient({ url: 'http://127.0.0.1:1', token: 't' }), clock, 'run-1');
  proxy.failed(new Error('ECONNREFUSED'));
  await clock.advance(1_000);
  clock.jumpWall(HOUR);
  expect(proxy.silentFor()).toBe(1_000);
  await clock.advance(2_000);
  clock.jumpWall(-2 * HOUR);
  expect(proxy.silentFor()).toBe(3_000);
  // The view keeps the wall time it began, for people (live.json, the dashboard).
  expect(proxy.view.unreachableSince).toBe(Date.UTC(2026, 0, 1));
  proxy.answered();
  expect(proxy.silentFor()).toBe(0);
});
