// A nothing_judged ending says how many requests the proxies passed through untouched (their figures' passedThrough).
// A proxy restarted mid-stage counts its stage's figures from its restart (given its stage again by the rollout): the rollout kept only the last read of each
// stage, so the count the ending gave dropped what the old process had passed through. It sums across the proxy's
// feed epochs (each process's own count) now.
import OpenAI from 'openai';
import { expect, it } from 'vitest';
import { completionServer, runProxy, scriptedPlan, UPSTREAM_KEY } from '../proxy/helpers.js';
import { tempDir } from '../helpers/plans.js';
import { until } from '../helpers/until.js';
import { oneStageLiveRollout, runClockUntil } from './engine-on-proxies.js';
import { ADMIN_TOKEN, proxyPorts } from './helpers.js';

async function passThrough(baseUrl: string, count: number): Promise<void> {
  // The application asks for green's model by name: each request passes through to blue's upstream, none is split.
  const client = new OpenAI({ baseURL: baseUrl, apiKey: 'unused', maxRetries: 0 });
  for (let i = 0; i < count; i++)
    await client.chat.completions.create({ model: 'green-model', user: `user-${i}`, messages: [{ role: 'user', content: 'hi' }] });
}

async function stageFigures(adminUrl: string): Promise<{ stage?: number; passedThrough?: number }> {
  const answer = await fetch(`${adminUrl}/admin/figures`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  return ((await answer.json()) as { stage: { stage?: number; passedThrough?: number } }).stage;
}

it('counts what a proxy restarted mid-stage passed through before its restart and after it', async () => {
  const upstream = await completionServer('green-model', 'hello');
  const yaml = scriptedPlan(upstream.url, { proxy: '{ admin: { token_env: ADMIN_TOKEN } }' });
  const ports = await proxyPorts();
  const proxy = { listen: `127.0.0.1:${ports.listen}`, adminListen: `127.0.0.1:${ports.admin}`, stateDir: tempDir() };
  const { running, clock, journal, done, fleet } = await oneStageLiveRollout(yaml, {
    pollMs: 100,
    errorRate: 0.2,
    onUnjudged: 'rollback',
    proxy,
    renewOnRestart: true,
  });
  await passThrough(running.baseUrl, 4);
  // Read by the rollout (its figures are read at the first poll) before the restart.
  await runClockUntil(
    clock,
    until(() => fleet.proxies[0]?.view.figures?.passedThrough === 4, 'the proxy figures read with 4 passed through'),
    100,
  );
  await running.close();
  const again = await runProxy(yaml, { env: { ADMIN_TOKEN, UPSTREAM_KEY }, ...proxy });
  // The rollout sees the restart at its next poll and sends its route again: the new process counts the stage afresh.
  await runClockUntil(
    clock,
    until(async () => (await stageFigures(again.proxy.adminUrl as string)).stage === 0, 'the stage set on the restarted proxy'),
    100,
  );
  await passThrough(again.baseUrl, 3);
  const outcome = await runClockUntil(clock, done, 100);
  expect(outcome).toMatchObject({ phase: 'rolled_back', exitCode: 10 });
  expect(journal.map((event) => event.message)).toContain(
    `proxy ${running.proxy.adminUrl as string} restarted: its results are read again from its new start; those its old process recorded after the last read (and while draining) reach the rollout through its state folder if it was stopped (SIGTERM, Ctrl-C), not if it was killed (-9)`,
  );
  const breach = journal.find((event) => event.type === 'breach');
  // Before: "passed 3 other requests", the restarted process's alone.
  expect(breach?.message).toContain("the proxies passed 7 other requests through to blue's upstream untouched");
});
