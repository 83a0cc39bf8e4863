// In CI nobody answers a pause: a plan whose undecided stages pause is warned of when the rollout (or its dry run)
// runs there (newuser32: a CI job held a paused stage to its timeout, then rolled back on SIGTERM, exit 143).
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { until } from '../helpers/until.js';
import { exitOf, journal, startRollout } from '../e2e/helpers.js';
import { simulatedStagesPlan, tempDir, writePlan } from '../helpers/plans.js';

const WARNING = 'bluegreen: warning: analysis.on_inconclusive: pause holds a stage left undecided until someone runs bluegreen resume';

function planDir(onInconclusive: string): string {
  const dir = tempDir();
  writePlan(simulatedStagesPlan('ci-pause', [{ duration: '1s', weight: 0.5 }], { analysis: `{ on_inconclusive: ${onInconclusive} }` }), dir);
  return dir;
}

describe('a plan that pauses undecided stages, in CI', () => {
  it('is warned of by --dry-run under --ci and under CI=true, not outside CI nor with pass', async () => {
    const paused = planDir('pause');
    const withFlag = await runCli(['rollout', 'plan.yaml', '--dry-run', '--ci', '--state-dir', 'st'], { cwd: paused });
    expect(withFlag.code).toBe(0);
    expect(withFlag.stderr).toContain(WARNING);
    const withEnv = await runCli(['rollout', 'plan.yaml', '--dry-run', '--state-dir', 'st'], { cwd: paused, env: { CI: 'true' } });
    expect(withEnv.stderr).toContain(WARNING);
    const outside = await runCli(['rollout', 'plan.yaml', '--dry-run', '--state-dir', 'st'], { cwd: paused, env: { CI: 'false' } });
    expect(outside.stderr).not.toContain(WARNING);
    const passing = await runCli(['rollout', 'plan.yaml', '--dry-run', '--ci', '--state-dir', 'st'], { cwd: planDir('pass') });
    expect(passing.stderr).not.toContain(WARNING);
  });

  it('is journaled by the real run among its start warnings, where the dashboard shows them (review32)', async () => {
    const dir = planDir('pause');
    // Stopped once the warning is journaled: a stage left undecided would wait for an operator nobody is.
    const run = startRollout(dir, ['--ci']);
    const said = () => journal(dir).some((event) => event.type === 'warning' && event.message.startsWith(WARNING.replace('bluegreen: warning: ', '')));
    await until(said, 'the pause warning to be journaled');
    run.kill('SIGTERM');
    expect(await exitOf(run)).toEqual({ code: 143, signal: null });
  });
});
