// orphan17: kill -9 of a live rollout at the points test/live and test/e2e did not reach with real processes: between
// the proxies' promotion and the rollout's record of it, and during its rollback's retries to a proxy that does
// not answer. Then what an operator runs: status, rollout --resume, rollback, a new rollout, rollback --force-blue.
// Real rollout processes; real proxies in-process on 127.0.0.1, an admin relay in front to land the kill.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { expect, it } from 'vitest';
import { BIN, journal, readState } from '../e2e/helpers.js';
import { runCli } from '../helpers/cli.js';
import { until } from '../helpers/until.js';
import { adminRelay } from '../live/admin-relay.js';
import OpenAI from 'openai';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ServerResponse } from 'node:http';
import { openAiCompletion, runProxy, scriptedPlan, scriptedServer, UPSTREAM_KEY } from '../proxy/helpers.js';
import { tempDir } from '../helpers/plans.js';
import { ADMIN_TOKEN, liveFixture, writeRolloutPlan } from '../live/helpers.js';
import { killAfterTest } from '../helpers/processes.js';

const fixture = liveFixture();

function rollout(dir: string, args: string[] = []): ChildProcess & { stderrText: () => string } {
  const child = spawn(process.execPath, [BIN, 'rollout', 'plan.yaml', '--ci', ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH, ADMIN_TOKEN, UPSTREAM_KEY },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  killAfterTest(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return Object.assign(child, { stderrText: () => stderr });
}

// Found by orphan17: killed after its proxy took the promotion (the journal's line of it not yet written), the
// rollout was resumed (`--resume` checked only state.json and the journal), which moved the promoted users back to
// its last stage's split to judge it again.
it("killed between the proxy's promotion and its record: status says green may be at 100%, --resume refuses, rollback puts it on blue", async () => {
  const [proxy] = await fixture.startProxies(1);
  if (!proxy) throw new Error('a proxy');
  const killed: { child?: ChildProcess } = {};
  const relay = await adminRelay(proxy.proxy.adminUrl as string, {
    // The proxy has taken (and saved) the promotion; the rollout dies before it reads the answer.
    cutAfter: (route) => {
      if (route.promotedArm === 'green') killed.child?.kill('SIGKILL');
      return undefined;
    },
  });
  const dir = writeRolloutPlan({ stages: ['{ duration: 300ms, green_weight: 0.5 }'] }, [relay.url]);
  const child = rollout(dir);
  killed.child = child;
  expect((await once(child, 'exit'))[1]).toBe('SIGKILL');
  expect(proxy.proxy.route.stored).toMatchObject({ promotedArm: 'green', ended: true });

  const status = await runCli(['status'], { cwd: dir });
  expect(status.code).toBe(5);
  expect(status.stdout).toContain('green at 50% or 100% (its promotion of the proxies was under way when it died)');

  for (const args of [['--resume', '--dry-run'], ['--resume']]) {
    const resume = await runCli(['rollout', 'plan.yaml', '--ci', ...args], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(resume.code, resume.stderr).toBe(2);
    expect(resume.stderr).toContain(
      '--resume: the rollout that died was already ending (its promotion of the proxies was under way when it died); it cannot be resumed: run bluegreen rollback',
    );
    expect(proxy.proxy.route.stored).toMatchObject({ promotedArm: 'green', ended: true });
  }

  const rollback = await runCli(['rollback'], { cwd: dir, env: { ADMIN_TOKEN } });
  expect(rollback.code, rollback.stderr).toBe(0);
  expect(rollback.stdout).toContain(`proxy ${relay.url}: back on blue`);
  const route = proxy.proxy.route.stored;
  expect(route).toMatchObject({ greenWeight: 0, mirror: 0, ended: true });
  expect(route.promotedArm).toBeUndefined();
  expect(readState(dir)).toMatchObject({ phase: 'rolled_back', exitCode: 5 });
  expect(String(readState(dir).reason)).toContain('with green at 50% or 100% (its promotion of the proxies was under way when it died)');
  expect((await runCli(['status'], { cwd: dir })).code).toBe(0);
  for (const text of [status.stdout, status.stderr, rollback.stdout, rollback.stderr, JSON.stringify(journal(dir))]) expect(text).not.toContain(ADMIN_TOKEN);
});

it('killed while its rollback retries a proxy that does not answer: status says it died rolling back; once the proxy answers, rollback puts it on blue', async () => {
  const [proxy] = await fixture.startProxies(1);
  if (!proxy) throw new Error('a proxy');
  let answering = true;
  const relay = await adminRelay(proxy.proxy.adminUrl as string, { drop: () => (answering ? undefined : 'route') });
  // A lease longer than the test: the rollback keeps trying the proxy until it runs out.
  const dir = writeRolloutPlan({ stages: ['{ duration: 5m, green_weight: 0.5 }'], controller: 'lease: 1m' }, [relay.url]);
  const child = rollout(dir);
  await until(() => journal(dir).some((event) => event.type === 'stage_started'), 'stage 1');
  expect(proxy.proxy.route.stored).toMatchObject({ greenWeight: 0.5 });
  answering = false;
  child.kill('SIGINT');
  await until(() => relay.swallowed >= 2, 'the rollback to try the proxy twice');
  child.kill('SIGKILL');
  await once(child, 'exit');
  expect(proxy.proxy.route.stored).toMatchObject({ greenWeight: 0.5 });

  const status = await runCli(['status'], { cwd: dir });
  expect(status.code).toBe(5);
  expect(status.stdout).toMatch(/orphaned \(its process died while rolling back( \(interrupted\))?\)/);
  expect(status.stdout).toContain('green at 0% or still 50% (its move of the proxies back to blue was under way when it died)');

  answering = true;
  const rollback = await runCli(['rollback'], { cwd: dir, env: { ADMIN_TOKEN } });
  expect(rollback.code, rollback.stderr).toBe(0);
  expect(proxy.proxy.route.stored).toMatchObject({ greenWeight: 0, mirror: 0, ended: true });
  expect(readState(dir)).toMatchObject({ phase: 'rolled_back', exitCode: 5 });
  expect(String(readState(dir).reason)).toMatch(/while it was rolling back/);
  // Run again, and forced: nothing left to do, the recorded outcome stands.
  expect((await runCli(['rollback'], { cwd: dir, env: { ADMIN_TOKEN } })).stdout).toContain('nothing to roll back');
  const forced = await runCli(['rollback', '--force-blue'], { cwd: dir, env: { ADMIN_TOKEN } });
  expect(forced.code, forced.stderr).toBe(0);
  expect(readState(dir)).toMatchObject({ phase: 'rolled_back', exitCode: 5 });
});

it("killed while its stage's end waits for green's requests in flight: status says where it was, rollback puts the proxy on blue, --resume goes on from that stage", async () => {
  // Blue answers at once; green's requests hang until the test answers them.
  const hung: ServerResponse[] = [];
  const upstream = await scriptedServer((_req, res, body) => {
    if (body.includes('green-model')) return void hung.push(res);
    res.writeHead(200, { 'content-type': 'application/json' }).end(openAiCompletion('blue-model', 'hello'));
  });
  const proxyBlock = '{ fallback: false, admin: { token_env: ADMIN_TOKEN } }';
  const running = await runProxy(scriptedPlan(upstream.url, { proxy: proxyBlock }), { env: { ADMIN_TOKEN, UPSTREAM_KEY } });
  const dir = tempDir('bluegreen-live-');
  const rolloutPlan = scriptedPlan(upstream.url, {
    proxy: `{ fallback: false, admin: { token_env: ADMIN_TOKEN }, controller: { admin_urls: [${running.proxy.adminUrl as string}] } }`,
  }).replace('duration: 1m', 'duration: 2s');
  writeFileSync(path.join(dir, 'plan.yaml'), `${rolloutPlan}analysis: { interval: 200ms, on_unjudged: promote }\n`);
  const child = rollout(dir);
  await until(() => journal(dir).some((event) => event.type === 'stage_started'), 'stage 1');
  const client = new OpenAI({ baseURL: running.baseUrl, apiKey: 'unused', maxRetries: 0 });
  const calls = Array.from({ length: 12 }, (_, i) =>
    client.chat.completions.create({ model: 'blue-model', user: `user-${i}`, messages: [{ role: 'user', content: 'hi' }] }).catch(() => undefined),
  );
  try {
    await until(() => hung.length > 0 && (readState(dir) as { stageEndWait?: unknown }).stageEndWait !== undefined, "the stage's end to wait for green");
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(running.proxy.route.effective().greenWeight).toBe(0.5);

    const status = await runCli(['status'], { cwd: dir });
    expect(status.code).toBe(5);
    expect(status.stdout).toContain('orphaned (its process died while progressing)');
    expect(status.stdout).toContain('stage 1/1, green 50% / blue 50%');

    const dry = await runCli(['rollout', 'plan.yaml', '--resume', '--dry-run', '--ci'], { cwd: dir, env: { ADMIN_TOKEN, UPSTREAM_KEY } });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('--resume: would go on from stage 1/1');

    const rollback = await runCli(['rollback'], { cwd: dir, env: { ADMIN_TOKEN, UPSTREAM_KEY } });
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(running.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    expect(readState(dir)).toMatchObject({ phase: 'rolled_back', exitCode: 5 });
    for (const text of [status.stdout, status.stderr, rollback.stdout, rollback.stderr, JSON.stringify(journal(dir))]) expect(text).not.toContain(UPSTREAM_KEY);
  } finally {
    for (const res of hung.splice(0)) res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"green broke"}}');
    await Promise.all(calls);
    await running.close();
    await upstream.close();
  }
});
