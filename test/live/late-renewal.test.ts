// A renewal that left the rollout before its proxy's lease ran out and reached it after (the proxy stopped a while
// with it in its socket buffer, a partition): hostile36b killed the rollout meanwhile, `bluegreen rollback` said the
// proxy serves blue on its own, and the late renewal reopened green for a whole new lease. Renewals now go conditional
// on the revision of the route the run last set, which the lapse moves on: the late one is refused, and only a live
// run, hearing that refusal, sends its route again. Real proxies on 127.0.0.1, their clock and the rollout's faked.
import { expect, it, onTestFinished } from 'vitest';
import { AdminClient } from '../../src/live/admin-client.js';
import { FleetProxy, ProxyFleet } from '../../src/live/fleet.js';
import { ProxyActuator } from '../../src/live/proxy-actuator.js';
import { LEASE_EXPIRED } from '../../src/proxy/route.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { planFromYaml } from '../helpers/plans.js';
import { until } from '../helpers/until.js';
import { runProxy, scriptedServer, type Running } from '../proxy/helpers.js';
import { adminRelay, type AdminRelay, type RouteBody } from './admin-relay.js';
import { ADMIN_TOKEN, proxyPlan } from './helpers.js';

const LEASE_MS = 6_000;

interface Blip {
  running: Running;
  relay: AdminRelay;
  clock: FakeClock;
  fleet: ProxyFleet;
  /** The renewal the relay kept from the proxy (as a stopped proxy's socket buffer keeps it). */
  late: RouteBody;
  /** Runs the proxy's clock past the lease: it serves blue on its own. */
  lapse: () => void;
}

/**
 * A two-stage rollout in its second stage (green 25%) whose next renewal is kept from the proxy, which is then left a
 * lease long without one: back on blue by its lease.
 */
async function blip(): Promise<Blip> {
  let now = Date.parse('2026-12-05T12:00:00Z');
  const running = await runProxy(proxyPlan(), { env: { ADMIN_TOKEN }, now: () => now });
  let keepNext = false;
  let late: RouteBody | undefined;
  const relay = await adminRelay(running.proxy.adminUrl as string, {
    drop: (route) => {
      if (!keepNext) return undefined;
      keepNext = false;
      late = route;
      return 'route';
    },
  });
  const clock = new FakeClock();
  const fleet = new ProxyFleet([relay.url], ADMIN_TOKEN, clock, LEASE_MS, 250);
  onTestFinished(() => fleet.close());
  const actuator = new ProxyActuator(planFromYaml(proxyPlan()), fleet, clock);
  onTestFinished(() => actuator.cancel());
  await actuator.applyStage({ stage: 0, stages: 2, greenWeight: 0.1 });
  await actuator.applyStage({ stage: 1, stages: 2, greenWeight: 0.25 });
  expect(running.proxy.route.effective()).toMatchObject({ greenWeight: 0.25 });
  keepNext = true;
  await clock.advance(LEASE_MS / 3);
  await until(() => relay.swallowed === 1 && fleet.proxies[0]?.view.reachable === false, 'the renewal kept from the proxy');
  return {
    running,
    relay,
    clock,
    fleet,
    late: late as RouteBody,
    lapse: () => {
      now += LEASE_MS + 1;
      expect(running.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    },
  };
}

/** Delivers `route` to the proxy itself, as it arrives when the proxy wakes: its status and body. */
async function deliver(running: Running, route: RouteBody): Promise<{ status: number; body: Record<string, unknown> }> {
  const answer = await fetch(`${running.proxy.adminUrl as string}/admin/route`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(route),
  });
  return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
}

it("a dead run's renewal that reaches the proxy after its lease ran out is refused: the proxy stays on blue", async () => {
  const { running, late, lapse } = await blip();
  const before = running.proxy.route.stored.revision as number;
  // The rollout is killed here (it sends nothing more); the proxy's lease runs out; the renewal arrives.
  lapse();
  const lapsed = running.proxy.route.stored;
  expect(lapsed).toMatchObject({ reason: LEASE_EXPIRED, revision: before + 1 });
  const answer = await deliver(running, late);
  // Refused, and told the route it could go on from: only a live run hears that, and sends again.
  expect(answer).toEqual({
    status: 409,
    body: { error: expect.stringContaining('the route was changed since it was read') as unknown, code: 'changed', goOnFrom: before + 1 },
  });
  expect(running.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
  expect(running.proxy.route.stored).toEqual(lapsed);
  // It was sent conditional on the route the run had set last.
  expect(late).toMatchObject({ greenWeight: 0.25, goingOn: true, ifRevision: before });
});

it('a live run whose renewal was lost while the lease ran out goes on at its next renewal (the blip case), and its late renewal changes nothing', async () => {
  const { running, relay, clock, fleet, late, lapse } = await blip();
  lapse();
  const lapsedAt = running.proxy.route.stored.updatedAt;
  // Its next renewal is conditional on the route it last set, refused over the lapse, and sent again over the lapse.
  await clock.advance(LEASE_MS / 3);
  await until(() => running.proxy.route.effective().greenWeight === 0.25, 'green 25% again');
  const proxy = fleet.proxies[0];
  await until(() => proxy?.view.reachable === true, 'the renewal answered');
  expect(proxy?.lapsedAt).toBe(lapsedAt);
  expect(relay.swallowed).toBe(1);
  // The renewal kept meanwhile, delivered now, is older than the route in force: refused, and the route stays.
  const renewed = running.proxy.route.stored;
  expect((await deliver(running, late)).status).toBe(409);
  expect(running.proxy.route.stored).toEqual(renewed);
});

/** A scripted admin API answering each PUT in turn with `answers` (status and body); the bodies sent, parsed. */
async function scriptedAdmin(answers: [number, Record<string, unknown>][]): Promise<{ fleet: FleetProxy; sent: () => RouteBody[] }> {
  let next = 0;
  const admin = await scriptedServer((_req, res) => {
    const [status, body] = answers[next++] ?? [500, { error: 'no more answers scripted' }];
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  const client = new AdminClient({ url: admin.url, token: ADMIN_TOKEN });
  onTestFinished(() => client.close());
  const fleet = new FleetProxy(client, new FakeClock(), 'run-1');
  return { fleet, sent: () => admin.seen.map((request) => JSON.parse(request.body) as RouteBody) };
}

const taken = (revision: number): [number, Record<string, unknown>] => [
  200,
  { route: { greenWeight: 0.25, mirror: 0, leaseExpiresAt: 1, updatedAt: 1, revision }, effective: { greenWeight: 0.25, mirror: 0 }, now: 1 },
];
const STAGE = { greenWeight: 0.25, mirror: 0, ttlMs: LEASE_MS, stage: 1 };

it('a proxy from before session 36 (a 409 `changed` naming no goOnFrom): the route is sent again without ifRevision, as before', async () => {
  const { fleet, sent } = await scriptedAdmin([taken(5), [409, { error: 'the route was changed since it was read', code: 'changed' }], taken(7)]);
  await fleet.setRoute(STAGE, true);
  await fleet.setRoute(STAGE, true);
  const [first, renewal, again] = sent();
  expect(first?.ifRevision).toBeUndefined();
  expect(renewal).toMatchObject({ goingOn: true, ifRevision: 5 });
  expect(again).toMatchObject({ goingOn: true });
  expect(again?.ifRevision).toBeUndefined();
  expect(fleet.refusal).toBeUndefined();
});

it("a refusal for anyone else's route (no code `changed`) is not sent again: the rollout rolls back over it", async () => {
  const refusal = 'the route was changed since this rollout set it: green 0%, mirror 0% (operator)';
  const { fleet, sent } = await scriptedAdmin([taken(5), [409, { error: refusal }], taken(7)]);
  await fleet.setRoute(STAGE, true);
  await expect(fleet.setRoute(STAGE, true)).rejects.toThrow(refusal);
  expect(sent()).toHaveLength(2);
  expect(fleet.refusal).toContain(refusal);
});
