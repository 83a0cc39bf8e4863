// A proxy stopped with SIGTERM while a slow green request is in flight (a green that never answers, cut by the
// proxy's 5 s request timeout while it drains) and replaced at once on the same ports and state folder: the
// draining proxy hands the failure over through the folder, its replacement serves it, and the rollout judges it in
// the stage it was served in. Without the handover the rollout never sees it (its admin port closed at the stop).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HANDOVER_DIR } from '../../src/proxy/handover.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';

import { ADMIN_TOKEN, freePort, liveView, ProxyProcess, writeRolloutPlan } from './helpers.js';
import { until } from '../helpers/until.js';

const processes: ProxyProcess[] = [];
afterEach(async () => {
  for (const proxy of processes.splice(0)) await proxy.kill();
});

async function healthz(proxy: ProxyProcess): Promise<{ inFlight: number } | undefined> {
  try {
    return (await (await fetch(`${proxy.baseUrl.replace(/\/v1$/, '')}/healthz`)).json()) as { inFlight: number };
  } catch {
    return undefined;
  }
}

describe("a proxy stopped while it serves a slow green request hands the request's result over", () => {
  it('the replacement serves it and the rollout judges the failure in its stage, once; the file is deleted once read', async () => {
    const stateDir = tempDir();
    const ports = { listen: await freePort(), admin: await freePort() };
    // Green never answers: the proxy's own timeout (5 s, the plan's upstream.timeout.request) fails it.
    const options = { green: 'timeout_rate: 1', fallback: false };
    const first = new ProxyProcess(stateDir, ports, options);
    processes.push(first);
    await first.start();
    // One stage of 100% green far longer than the test; one failure is below error_rate's min_requests.
    const dir = writeRolloutPlan({ stages: ['{ duration: 5m, green_weight: 1 }'], controller: 'lease: 1m', fallback: false }, [first.adminUrl]);
    const run = runCli(['rollout', 'plan.yaml', '--ci', '--report-json', 'report.json'], { cwd: dir, env: { ADMIN_TOKEN } });
    await until(() => first.route()?.greenWeight === 1, 'stage 1 on the proxy');
    await until(() => liveView(dir)?.proxies[0]?.lastContactAt !== undefined, 'the rollout to read the proxy');

    // The application's request, sent to green, hangs.
    const request = fetch(`${first.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer app-key' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] }),
    });
    for (let seen = await healthz(first); (seen?.inFlight ?? 0) < 1; seen = await healthz(first)) await new Promise((r) => setTimeout(r, 20));

    // Stopped while it is in flight; the replacement starts at once, before the first has finished draining.
    const exited = first.terminate();
    await until(() => first.stderr.includes('letting 1 request in flight finish'), 'the first proxy to drain');
    const second = new ProxyProcess(stateDir, ports, options);
    processes.push(second);
    await second.start();

    // The drain lets the request end (the proxy's timeout fails it) and the application hears so.
    const answer = await request;
    expect(answer.status).toBeGreaterThanOrEqual(500);
    expect(answer.headers.get('x-bluegreen-arm')).toBe('green');
    expect(await exited).toBe(143);

    // The rollout judges it, in stage 1, from the replacement's feed.
    await until(() => (liveView(dir)?.stages[0]?.arms.green.failures ?? 0) > 0, 'the handed-over failure in the rollout');
    // Read past and its writer gone: the replacement deletes the file at its next read.
    const folder = path.join(stateDir, HANDOVER_DIR);
    await until(() => !existsSync(folder) || readdirSync(folder).every((name) => !/\.jsonl?$/.test(name)), 'the handover file deleted');

    const abort = await runCli(['abort'], { cwd: dir });
    expect(abort.code, abort.stderr).toBe(0);
    const result = await run;
    expect(result.code, result.stderr).toBe(4);
    const stage = liveView(dir)?.stages[0];
    // Judged once, as green's failure, in the stage it was served in.
    expect(stage?.stage).toBe(0);
    expect(stage?.arms.green).toEqual({ requests: 1, failures: 1 });
    const report = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as {
      stages: { arms: { green: { requests: number; failures: number; failuresByClass: Record<string, number> } } }[];
    };
    // What the judge saw: green's one request, failed by the timeout.
    expect(report.stages[0]?.arms.green).toMatchObject({ requests: 1, failures: 1, failuresByClass: { timeout: 1 } });
    const journal = readFileSync(path.join(dir, '.bluegreen', 'events.jsonl'), 'utf8');
    expect(journal).toContain('restarted: its results are read again from its new start');
  }, 90_000);
});
