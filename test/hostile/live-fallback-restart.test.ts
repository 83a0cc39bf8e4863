// A rollout whose plan promises fallback to blue (proxy.fallback: true) refuses at its preflight a proxy serving
// without it. A proxy restarted mid-rollout on an edited plan with `fallback: false` met no such check: it took the
// stage's route back (its saved route, then the renewals) and green's failures reached the application for the rest
// of the stage. Its next route is refused now (409), as for other quality rules: the rollout rolls back, the proxy
// ends on blue. Real proxy processes on 127.0.0.1.
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

describe('a proxy restarted mid-rollout on a plan without fallback', () => {
  it('refuses its next route: the rollout rolls back, the proxy ends on blue', async () => {
    const stateDir = tempDir();
    const ports = await proxyPorts();
    const first = fixture.proxyProcess(stateDir, ports);
    await first.start();
    const application = fixture.application([first], 1);
    // A lease far longer than a restart takes, however busy the machine: the restart is back within it.
    const dir = writeRolloutPlan({ stages: ['{ duration: 5m, green_weight: 0.5 }'], controller: 'lease: 1m' }, [first.adminUrl]);
    const run = runCli(['rollout', 'plan.yaml', '--ci'], { cwd: dir, env: { ADMIN_TOKEN } });
    await until(() => first.route()?.greenWeight === 0.5 && application.arms.green > 0, 'green answers in stage 1');
    await until(journalHas(dir, 'stage_started'), 'the rollout to have the stage 1 answer');
    await first.kill();

    // Same plan name, models and quality rules (so its saved route applies), no fallback.
    const edited = fixture.proxyProcess(stateDir, ports, { fallback: false });
    await edited.start();
    const result = await run;
    expect(result.code, result.stderr).toBe(10);
    const state = JSON.parse(readFileSync(path.join(dir, '.bluegreen', 'state.json'), 'utf8')) as RolloutSnapshot;
    expect(state.phase).toBe('rolled_back');
    // A call reaching the proxy while it restarts may roll back on proxy_unreachable first: blue either way.
    expect(['hook', 'proxy_unreachable']).toContain(state.breach?.rule);
    if (state.breach?.rule === 'hook') expect(state.reason).toContain('this proxy serves without fallback to blue');
    expect(edited.route()).toMatchObject({ greenWeight: 0, mirror: 0 });
    const health = (await (await fetch(`http://127.0.0.1:${ports.listen}/healthz`)).json()) as { route: { greenWeight: number } };
    expect(health.route.greenWeight).toBe(0);
  });
});
