// A proxy stopped with SIGTERM while a slow green request is in flight (a green that never answers, cut by the
// proxy's 5 s request timeout while it drains) and replaced at once on the same ports and state folder: the
// draining proxy hands the failure over through the folder, its replacement serves it, and the rollout judges it in
// the stage it was served in. Without the handover the rollout never sees it (its admin port closed at the stop).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HANDOVER_DIR } from '../../src/proxy/handover.js';
import { runCli } from '../helpers/cli.js';
import { drivenAtFullGreen, type HandoverReport, startReplacement, startSlowGreenProxy, stopWhileServing } from './handover-setup.js';
import { ADMIN_TOKEN, liveView, type ProxyProcess } from './helpers.js';
import { until } from '../helpers/until.js';

const processes: ProxyProcess[] = [];
afterEach(async () => {
  for (const proxy of processes.splice(0)) await proxy.kill();
});

describe("a proxy stopped while it serves a slow green request hands the request's result over", () => {
  it('the replacement serves it and the rollout judges the failure in its stage, once; the file is deleted once read', async () => {
    const setup = await startSlowGreenProxy(processes);
    const { dir, stateDir } = setup;
    const run = runCli(['rollout', 'plan.yaml', '--ci', '--report-json', 'report.json'], { cwd: dir, env: { ADMIN_TOKEN } });
    await drivenAtFullGreen(setup);

    // The application's request, sent to green, hangs; the proxy is stopped while it is in flight, and the
    // replacement starts at once, before the first has finished draining.
    const { answer: request, exited } = await stopWhileServing(setup);
    await startReplacement(setup, processes);

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
    const report = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as HandoverReport;
    // What the judge saw: green's one request, failed by the timeout.
    expect(report.stages[0]?.arms.green).toMatchObject({ requests: 1, failures: 1, failuresByClass: { timeout: 1 } });
    const journal = readFileSync(path.join(dir, '.bluegreen', 'events.jsonl'), 'utf8');
    expect(journal).toContain('restarted: its results are read again from its new start');
  }, 90_000);
});
