// A live plan with generated_traffic: true: the rollout sends the plan's synthetic traffic itself, on top of what
// the proxies serve. The judge sees both; status and the JSON report keep them apart (docs/live.md).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { reportSchema, type RolloutReport } from '../../src/report/outcome/index.js';
import { ARMS } from '../../src/plan/plan.js';
import { runCli } from '../helpers/cli.js';
import type { Running } from '../proxy/helpers.js';
import { ADMIN_TOKEN, liveFixture, liveView, promoteWhen, savedStage, writeRolloutPlan } from './helpers.js';

const fixture = liveFixture();

function reportOf(dir: string): RolloutReport {
  return reportSchema.parse(JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')));
}

/** status's live row for a stage: live blue, live green, green failed, fallbacks, mirrors, generated blue, generated green. */
function statusRow(stdout: string, stage: number): number[] {
  const line = stdout.split('\n').find((l) => new RegExp(`^\\s+${stage}(\\s+\\d+){7}\\s*$`).test(l));
  if (!line) throw new Error(`no live row for stage ${stage} in:\n${stdout}`);
  return line.trim().split(/\s+/).slice(1).map(Number);
}

describe('live rollout with generated traffic on top', () => {
  it('judges live and generated requests together and reports them apart (status, JSON report)', async () => {
    const proxies = await fixture.startProxies(1);
    fixture.application(proxies);
    // A stage longer than the test, promoted once the rollout has counted live and generated requests on both arms: a 2 s
    // stage once ended, on a loaded machine (load 30-45), before the application's requests had reached both arms.
    const dir = writeRolloutPlan({ controller: 'generated_traffic: true', stages: ['{ duration: 5m, green_weight: 0.5 }'] }, proxies);
    const run = runCli(['rollout', 'plan.yaml', '--ci', '--report-json', 'report.json'], { cwd: dir, env: { ADMIN_TOKEN } });
    await promoteWhen(
      dir,
      run,
      () => {
        const live = liveView(dir)?.stages[0]?.arms;
        const judged = savedStage(dir)?.arms;
        // Live requests on both arms, and generated ones besides: the saved stage counts both kinds. Both files are the
        // rollout's, live.json written at each read of the proxy, state.json every second: a difference never overstates.
        return live !== undefined && judged !== undefined && ARMS.every((arm) => live[arm].requests >= 3 && judged[arm].requests - live[arm].requests >= 3);
      },
      'live and generated requests on both arms',
    );
    const result = await run;
    expect(result.code, result.stderr).toBe(0);
    const report = reportOf(dir);
    const stage = report.stages[0];
    const live = report.live?.stages[0];
    if (!stage || !live) throw new Error('no stage 1 in the report');
    // Both kinds reached both arms, and the judged figures are exactly their sum.
    for (const arm of ['blue', 'green'] as const) {
      expect(live.live[arm].requests).toBeGreaterThan(0);
      expect(live.generated[arm].requests).toBeGreaterThan(0);
      expect(live.live[arm].requests + live.generated[arm].requests).toBe(stage.arms[arm].requests);
    }
    // The live figures are what the proxy served under the rollout's stage 1, no more, no less.
    const feed = (proxies[0] as Running).proxy;
    expect(report.live?.proxies).toEqual([expect.objectContaining({ url: feed.adminUrl, reachable: true, promotedArm: 'green', missed: 0 })]);
    const status = await runCli(['status'], { cwd: dir });
    const [liveBlue, liveGreen, , , , generatedBlue, generatedGreen] = statusRow(status.stdout, 1);
    expect({ liveBlue, liveGreen, generatedBlue, generatedGreen }).toEqual({
      liveBlue: live.live.blue.requests,
      liveGreen: live.live.green.requests,
      generatedBlue: live.generated.blue.requests,
      generatedGreen: live.generated.green.requests,
    });
  });

  it('rolls back on generated failures while live green is fine: both are judged, and the report says which failed', async () => {
    // The proxies' green is healthy; the green the rollout sends its own traffic to always fails.
    const proxies = await fixture.startProxies(1);
    const app = fixture.application(proxies, 1);
    // The generated requests are a few a second among many live ones: a strict limit makes their failures count. 20 a
    // second, retried after 50-200 ms: each failure was 4 attempts over 3.5 s of the default backoff (500 ms doubling),
    // the breach waited for them and the rollback's drain for the last (about 4 s of the test's 9 s).
    const dir = writeRolloutPlan(
      {
        controller: 'generated_traffic: true',
        green: 'error_rate: 1',
        thresholds: 'error_rate: 0.01',
        retries: '{ base_delay: 50ms, max_delay: 200ms }',
        rate: 20,
        stages: ['{ duration: 5m, green_weight: 0.5 }'],
      },
      proxies,
    );
    const result = await runCli(['rollout', 'plan.yaml', '--ci', '--report-json', 'report.json'], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(result.code, result.stderr).toBe(10);
    const report = reportOf(dir);
    expect(report.outcome.breach?.rule).toBe('error_rate');
    const live = report.live?.stages[0];
    expect(live?.live.green.requests).toBeGreaterThan(0);
    expect(live?.live.green.failures).toBe(0);
    expect(live?.generated.green.failures).toBeGreaterThan(0);
    expect(live?.generated.green.failures).toBe(report.stages[0]?.arms.green.failures);
    expect(app.failures).toBe(0);
    expect((proxies[0] as Running).proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
  });
});
