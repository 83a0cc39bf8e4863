// A proxy killed (-9) and started again on the same ports and state folder while a rollout drives it: back within
// the lease, it resumes the route it saved and the rollout goes on, judging the restarted proxy's results too;
// back after the lease, it serves blue and the rollout has rolled back (proxy_unreachable). Never green unless promoted.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RolloutEvent, RolloutSnapshot } from '../../src/engine/types.js';
import type { LiveView } from '../../src/live/fleet.js';
import type { FeedPage } from '../../src/proxy/results-feed.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';

import { ADMIN_TOKEN, Application, proxyPorts, ProxyProcess, writeRolloutPlan } from './helpers.js';
import { until } from '../helpers/until.js';

let proxy: ProxyProcess | undefined;
let app: Application | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
  await proxy?.kill();
  proxy = undefined;
});

async function admin<T>(url: string): Promise<T> {
  const answer = await fetch(url, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  return (await answer.json()) as T;
}

/** Live requests the rollout has read so far, from its live.json. */
function liveJudged(dir: string): number {
  try {
    const view = JSON.parse(readFileSync(path.join(dir, '.bluegreen', 'live.json'), 'utf8')) as LiveView;
    return view.stages.reduce((sum, stage) => sum + stage.arms.blue.requests + stage.arms.green.requests, 0);
  } catch {
    return 0;
  }
}

async function startedProxy(): Promise<ProxyProcess> {
  const started = new ProxyProcess(tempDir(), await proxyPorts());
  await started.start();
  return started;
}

describe('a proxy restarted while a rollout drives it', () => {
  it('back within the lease: it resumes its saved route, the rollout goes on and judges its new results, then is promoted', async () => {
    proxy = await startedProxy();
    const running = proxy;
    app = new Application([running], 1);
    const application = app;
    // A lease and a stage far longer than any restart takes, however busy the machine: the operator promotes.
    const dir = writeRolloutPlan({ stages: ['{ duration: 5m, green_weight: 0.5 }'], controller: 'lease: 1m' }, [running.adminUrl]);
    const run = runCli(['rollout', 'plan.yaml', '--ci', '--report-json', 'report.json'], { cwd: dir, env: { ADMIN_TOKEN } });
    await until(() => running.route()?.greenWeight === 0.5 && application.arms.green > 0, 'green answers in stage 1');
    // The rollout has read some of the first proxy's results (results it had not read yet die with the proxy).
    await until(() => liveJudged(dir) > 0, 'the rollout to read the proxy');
    const readBeforeKill = liveJudged(dir);
    const saved = running.route();
    await running.kill();
    await running.start();
    // The saved lease still counts after the restart: the proxy serves stage 1's split before any renewal reaches it.
    const { route, effective } = await admin<{ route: { leaseExpiresAt: number }; effective: { greenWeight: number } }>(`${running.adminUrl}/admin/route`);
    expect(effective.greenWeight).toBe(0.5);
    expect(route.leaseExpiresAt).toBeGreaterThanOrEqual(saved?.leaseExpiresAt ?? Infinity);
    // Seeing it restarted, the rollout renews it at once (the next renewal of a 1 m lease is 20 s away).
    await until(() => (running.route()?.leaseExpiresAt ?? 0) > (saved?.leaseExpiresAt ?? Infinity), 'the restarted proxy renewed at once');
    const failedWhileDown = application.failures;
    const greenBefore = application.arms.green;
    await until(() => application.arms.green > greenBefore, 'green answers from the restarted proxy');
    await until(() => liveJudged(dir) > readBeforeKill, "the rollout to read the restarted proxy's results");
    const promote = await runCli(['promote'], { cwd: dir });
    expect(promote.code, promote.stderr).toBe(0);

    const result = await run;
    expect(result.code, result.stderr).toBe(0);
    // Once back, the proxy answered every request of the application.
    expect(application.failures).toBe(failedWhileDown);
    // The proxy writes its route file on its own time (another process): wait for the promotion to land there.
    await until(() => running.route()?.promotedArm === 'green', 'the promotion in the route file');
    expect(running.route()).toMatchObject({ greenWeight: 1, promotedArm: 'green' });
    // Every result the restarted proxy served during the rollout was read and judged, on top of the first
    // proxy's: its feed began again at 1 and the rollout read it from the start; results it tagged with no stage
    // (restarted, it knows none until the next renewal) count in the stage in force, even those read after the end.
    const page = await admin<FeedPage>(`${running.adminUrl}/admin/results?after=0`);
    const afterRestart = page.results.filter((entry) => entry.stage === undefined || entry.stage < 1).length;
    expect(afterRestart).toBeGreaterThan(0);
    const state = JSON.parse(readFileSync(path.join(dir, '.bluegreen', 'state.json'), 'utf8')) as RolloutSnapshot;
    // The journal tells the operator what happened: the proxy stopped answering, answered again, had restarted.
    const warnings = readFileSync(path.join(dir, '.bluegreen', 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as RolloutEvent)
      .filter((event) => event.type === 'warning')
      .map((event) => event.message);
    expect(warnings).toContainEqual(expect.stringMatching(new RegExp(`^proxy ${running.adminUrl} is not answering \\(`)));
    expect(warnings).toContain(`proxy ${running.adminUrl} answers again`);
    expect(warnings).toContain(
      `proxy ${running.adminUrl} restarted: its results are read again from its new start; those its old process recorded after the last read (and while draining) reach the rollout through its state folder if it was stopped (SIGTERM, Ctrl-C), not if it was killed (-9)`,
    );
    const judged = state.stages.reduce((sum, stage) => sum + stage.arms.blue.requests + stage.arms.green.requests, 0);
    // Less the one request the application's one loop may have had in flight at the promotion: it counts in the
    // stage it started in, and ends after the rollout's last read.
    expect(judged).toBeGreaterThanOrEqual(readBeforeKill + afterRestart - 1);
  });

  it('back after the lease: the rollout has rolled back (proxy_unreachable) and the restarted proxy serves blue, saying why', async () => {
    proxy = await startedProxy();
    const running = proxy;
    // 6 s, not 1 or 3: admin calls time out at lease/3 (2 s at most), and a loaded machine slows the proxy process past
    // 333 ms, and past 1 s: the rollout could roll back on a live proxy, before the kill.
    const dir = writeRolloutPlan({ stages: ['{ duration: 5m, green_weight: 0.5, mirror: 0.5 }'], controller: 'lease: 6s' }, [running.adminUrl]);
    const run = runCli(['rollout', 'plan.yaml', '--ci', '--report-json', 'report.json'], { cwd: dir, env: { ADMIN_TOKEN } });
    await until(() => running.route()?.greenWeight === 0.5, 'the route on the proxy');
    // The proxy saves a route before it answers: the stage has begun once the rollout journaled it.
    await until(() => journalOf(dir).includes('"stage_started"'), 'the stage to start');
    await running.kill();
    const result = await run;
    expect(result.code, result.stderr).toBe(10);
    const { breach } = (JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as { outcome: { breach: Record<string, unknown> } }).outcome;
    expect(breach).toMatchObject({ rule: 'proxy_unreachable', limit: 6000 });
    // The rollout could not tell the dead proxy; the route it saved still names green, under a lease now past.
    expect(running.route()).toMatchObject({ greenWeight: 0.5, mirror: 0.5 });

    await running.start();
    app = new Application([running], 1);
    const application = app;
    await until(() => application.total >= 10, 'requests through the restarted proxy');
    expect(application.arms.green).toBe(0);
    expect(application.failures).toBe(0);
    await until(() => running.route()?.reason === 'lease expired: back on blue', 'the proxy to record why it serves blue');
    expect(running.route()).toMatchObject({ greenWeight: 0, mirror: 0 });
    expect(running.stderr).toContain('route lease expired without renewal: serving blue');
  });
});

function journalOf(dir: string): string {
  try {
    return readFileSync(path.join(dir, '.bluegreen', 'events.jsonl'), 'utf8');
  } catch {
    return '';
  }
}
