// One admin URL in front of two proxy processes (a load balancer over replicas, round-robin per request): each call
// reaches either process, so the rollout would read their results feeds in turn, take each change of feed for a
// restart (results read twice or missed), and set each route on one of them. A feed seen again after another was
// seen later cannot be a restart: the preflight refuses such a URL (exit 3), and a rollout that meets it later (a
// replica added behind the URL mid-rollout) stops and rolls back, every process behind the URL put on blue. A new
// feed mid-rollout is read again for (the route, a few times) before it is taken for a restart.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect, createServer as createTcpServer } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { listenForTest } from '../helpers/loopback.js';
import type { Running } from '../proxy/helpers.js';
import { ProxyFleet } from '../../src/live/fleet.js';
import { ProxyActuator } from '../../src/live/proxy-actuator.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { planFromYaml } from '../helpers/plans.js';
import { ADMIN_TOKEN, liveFixture, proxyPlan, writeRolloutPlan } from './helpers.js';
import { until } from '../helpers/until.js';

const fixture = liveFixture();

/**
 * A round-robin HTTP relay in front of `targets`' admin APIs: each request to the next target. `spreading()` says
 * whether it spreads yet: until then every request goes to the first (a replica added behind the URL later).
 */
async function roundRobin(targets: Running[], spreading: () => boolean = () => true): Promise<{ url: string; sent: number[] }> {
  const sent = targets.map(() => 0);
  let next = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const index = spreading() ? next++ % targets.length : 0;
      sent[index] = (sent[index] ?? 0) + 1;
      const target = targets[index]?.proxy.adminUrl as string;
      void fetch(`${target}${req.url ?? '/'}`, {
        method: req.method,
        headers: { authorization: req.headers.authorization ?? '', 'content-type': 'application/json' },
        ...(req.method === 'PUT' && { body: Buffer.concat(chunks) }),
      })
        .then(async (answer) => res.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text()))
        .catch(() => req.socket.destroy());
    });
  });
  return { url: `http://${await listenForTest(server)}`, sent };
}

/** A round-robin TCP relay in front of `targets`' admin APIs: each connection to the next (a layer-4 balancer). */
async function roundRobinConnections(targets: Running[]): Promise<string> {
  let next = 0;
  const server = createTcpServer((client) => {
    const { port } = new URL(targets[next++ % targets.length]?.proxy.adminUrl as string);
    const upstream = connect(Number(port), '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  return `http://${await listenForTest(server)}`;
}

function reportOf(dir: string): { outcome: { phase: string; breach?: { rule: string; message: string } } } {
  return JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as never;
}

describe('two proxy processes behind one admin URL', () => {
  it('are refused at the preflight (exit 3), the rollout and its --dry-run, and nothing is moved', async () => {
    const replicas = await fixture.startProxies(2);
    const relay = await roundRobin(replicas);
    const dir = writeRolloutPlan({ stages: ['{ duration: 1m, green_weight: 0.5 }'] }, [relay.url]);
    const said = `preflight: ${relay.url} answers from more than one proxy process`;
    const result = await runCli(['rollout', 'plan.yaml', '--ci'], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toContain(said);
    expect(result.stderr).toContain("list each proxy's own admin URL in proxy.controller.admin_urls");
    for (const replica of replicas) expect(replica.proxy.route.stored).toMatchObject({ greenWeight: 0, mirror: 0, updatedAt: 0 });
    const dry = await runCli(['rollout', 'plan.yaml', '--dry-run', '--ci'], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(dry.code, dry.stderr).toBe(3);
    expect(dry.stderr).toContain(said);
  });

  it('are refused at the preflight behind a balancer that spreads connections (layer 4), not requests', async () => {
    const replicas = await fixture.startProxies(2);
    const url = await roundRobinConnections(replicas);
    const dir = writeRolloutPlan({ stages: ['{ duration: 1m, green_weight: 0.5 }'] }, [url]);
    const result = await runCli(['rollout', 'plan.yaml', '--ci'], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toContain(`preflight: ${url} answers from more than one proxy process`);
    for (const replica of replicas) expect(replica.proxy.route.stored).toMatchObject({ greenWeight: 0, mirror: 0, updatedAt: 0 });
  });

  it('met mid-rollout (a replica added behind the URL): the rollout stops (exit 10) naming the URL, and both replicas end on blue', async () => {
    const replicas = await fixture.startProxies(2);
    const apps = replicas.map((replica) => fixture.application([replica], 1));
    // The preflight sees one process; the second joins once the first route is on its way.
    let spreading = false;
    const relay = await roundRobin(replicas, () => spreading);
    const dir = writeRolloutPlan({ stages: ['{ duration: 5m, green_weight: 0.5 }'] }, [relay.url]);
    const run = runCli(['rollout', 'plan.yaml', '--ci', '--report-json', 'report.json'], { cwd: dir, env: { ADMIN_TOKEN } });
    // The first stage's route reached the first replica: from now on calls alternate.
    const [first] = replicas as [Running, Running];
    await untilRoute(first, 0.5);
    spreading = true;
    const result = await run;
    expect(result.code, result.stderr).toBe(10);
    const { outcome } = reportOf(dir);
    expect(outcome.phase).toBe('rolled_back');
    expect(outcome.breach?.rule).toBe('hook');
    expect(outcome.breach?.message).toContain(`proxy ${relay.url} answers from more than one proxy process`);
    expect(outcome.breach?.message).toContain("list each proxy's own admin URL in proxy.controller.admin_urls");
    // Each replica took blue from the ending (the relay spread its repeated blue over both), not only by its lease.
    for (const replica of replicas) expect(replica.proxy.route.stored).toMatchObject({ greenWeight: 0, mirror: 0, ended: true });
    expect(relay.sent.every((count) => count > 0)).toBe(true);
    const journal = readFileSync(path.join(dir, '.bluegreen', 'events.jsonl'), 'utf8');
    expect(journal).toContain(`proxy ${relay.url}: back on blue, on each of the 2 proxy processes that answered there`);
    // Told at the second replica's first answer, by reading the route again: not first taken for a restart (the
    // second's feed read from its start, the first's sends counted lost) until the first answered once more.
    expect(journal).not.toContain('restarted: its results are read again');
    for (const app of apps) await app.stop();
  });
});

describe('the proxies as an actuator at such a URL', () => {
  it('decline the promotion (rule hook), which would reach one process only, and send blue until each process took it', async () => {
    const replicas = await fixture.startProxies(2);
    let spreading = false;
    const relay = await roundRobin(replicas, () => spreading);
    const clock = new FakeClock();
    const fleet = new ProxyFleet([relay.url], ADMIN_TOKEN, clock, 60_000, 250);
    const actuator = new ProxyActuator(planFromYaml(proxyPlan()), fleet, clock);
    try {
      await actuator.applyStage({ stage: 0, stages: 1, greenWeight: 0.5 });
      // A replica joins: reads of the route alternate, and the URL's second process shows.
      spreading = true;
      const [proxy] = fleet.proxies;
      for (let read = 0; read < 3; read++) await proxy?.readRoute();
      expect(proxy?.client.processes.twoAnswering).toBeDefined();
      const [promotion] = await actuator.applyEnding({ event: 'promote', stage: 0, stages: 1, greenWeight: 0.5, reason: 'all stages passed' });
      expect(promotion).toMatchObject({ ok: false, declined: true, rule: 'hook' });
      expect(promotion?.message).toContain(`${relay.url} answers from more than one proxy process`);
      for (const replica of replicas) expect(replica.proxy.route.stored.promotedArm).toBeUndefined();
      const [rollback] = await actuator.applyEnding({ event: 'rollback', stage: 0, stages: 1, greenWeight: 0.5, reason: 'declined' });
      expect(rollback).toMatchObject({ ok: true, message: 'back on blue, on each of the 2 proxy processes that answered there' });
      for (const replica of replicas) expect(replica.proxy.route.stored).toMatchObject({ greenWeight: 0, mirror: 0, ended: true });
    } finally {
      await fleet.close();
    }
  });
});

async function untilRoute(replica: Running, greenWeight: number): Promise<void> {
  await until(() => replica.proxy.route.stored.greenWeight === greenWeight, `green ${greenWeight} on the first replica`);
}
