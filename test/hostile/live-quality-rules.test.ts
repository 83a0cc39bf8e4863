// A live rollout judges quality by outcomes its proxies compute with their own plan's analysis.quality (the results
// feed carries no answer text). An operator who edits the plan's quality rules after starting the proxy (or restarts
// a proxy on an edited plan mid-rollout) must not get a rollout that reports checks nobody made: one whose rule
// every green answer fails was promoted, its dashboard saying "quality_fail_rate 0.0%". Real proxies on 127.0.0.1.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RolloutSnapshot } from '../../src/engine/types.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';
import { ADMIN_TOKEN, proxyPorts, liveFixture, writeRolloutPlan } from '../live/helpers.js';
import { until } from '../helpers/until.js';
import { journalHas } from '../e2e/helpers.js';

const fixture = liveFixture();
// No simulated answer holds this text: every green answer fails the rule.
const NEVER = '{ contains: "never-in-any-answer" }';
const STAGES = ['{ duration: 2s, green_weight: 0.5 }', '{ duration: 2s, green_weight: 1 }'];

describe('a live rollout whose plan checks quality by other rules than its proxies', () => {
  it('is refused before anything moves (exit 3, the rules named), the dry run too', async () => {
    const [proxy] = await fixture.startProxies(1);
    const application = fixture.application([proxy!]);
    const dir = writeRolloutPlan({ stages: STAGES, quality: NEVER, thresholds: 'error_rate: 0.2, quality_fail_rate: 0.05' }, [proxy!]);
    await until(() => application.total > 5, 'application requests');

    const run = await runCli(['rollout', 'plan.yaml', '--ci'], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain(
      `preflight: ${proxy!.proxy.adminUrl as string}: this proxy checks answers by other quality rules (its plan's analysis.quality: none)`,
    );
    expect(run.stderr).toContain('never-in-any-answer');
    expect(run.stderr).toContain("restart the proxy on the rollout's plan; nothing was moved");
    // Nothing moved: the route was never set, and the application saw only blue.
    expect(proxy!.proxy.route.stored).toMatchObject({ greenWeight: 0, mirror: 0, updatedAt: 0 });
    expect(application.arms.green).toBe(0);

    const dry = await runCli(['rollout', 'plan.yaml', '--ci', '--dry-run'], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(dry.code).toBe(3);
    expect(dry.stderr).toContain('this proxy checks answers by other quality rules');
  });

  it('runs when only the spelling differs (a default written out, one needle as a list)', async () => {
    const [proxy] = await fixture.startProxies(1, { quality: '{ contains: ok, refusals: fail }' });
    const dir = writeRolloutPlan({ stages: ['{ duration: 2s, green_weight: 0.5 }'], quality: '{ contains: [ok], tool_calls: pass }' }, [proxy!]);
    const dry = await runCli(['rollout', 'plan.yaml', '--ci', '--dry-run'], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(dry.code, dry.stderr).toBe(0);
  });

  it('a proxy restarted on an edited plan mid-rollout refuses its next route: the rollout rolls back, the proxy ends on blue', async () => {
    const stateDir = tempDir();
    const ports = await proxyPorts();
    const first = fixture.proxyProcess(stateDir, ports);
    await first.start();
    const application = fixture.application([first], 1);
    // A lease far longer than a restart takes, however busy the machine: the restart is back within it.
    const dir = writeRolloutPlan({ stages: ['{ duration: 5m, green_weight: 0.5 }'], controller: 'lease: 1m' }, [first.adminUrl]);
    const run = runCli(['rollout', 'plan.yaml', '--ci'], { cwd: dir, env: { ADMIN_TOKEN } });
    await until(() => first.route()?.greenWeight === 0.5 && application.arms.green > 0, 'green answers in stage 1');
    // The proxy saves the route before it answers: the stage has begun (the rollout has its answer) once journaled.
    await until(journalHas(dir, 'stage_started'), 'the rollout to have the stage 1 answer');
    await first.kill();

    // Same plan name and models (so its saved route applies), other quality rules.
    const edited = fixture.proxyProcess(stateDir, ports, { quality: NEVER });
    await edited.start();
    const result = await run;
    expect(result.code, result.stderr).toBe(10);
    const state = JSON.parse(readFileSync(path.join(dir, '.bluegreen', 'state.json'), 'utf8')) as RolloutSnapshot;
    expect(state.phase).toBe('rolled_back');
    // The refusal (409, rule hook) is what the restart should meet; in one fresh-clone run a call reached the proxy
    // while it restarted and the rollout rolled back on proxy_unreachable first: blue either way (asserted below).
    expect(['hook', 'proxy_unreachable']).toContain(state.breach?.rule);
    if (state.breach?.rule === 'hook') expect(state.reason).toContain('this proxy checks answers by other quality rules');
    // The rollback is never refused: the proxy serves blue.
    expect(edited.route()).toMatchObject({ greenWeight: 0, mirror: 0 });
    const health = (await (await fetch(`http://127.0.0.1:${ports.listen}/healthz`)).json()) as { route: { greenWeight: number } };
    expect(health.route.greenWeight).toBe(0);
  });
});
