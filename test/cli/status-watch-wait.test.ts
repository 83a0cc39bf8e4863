// `status --watch` opened before the rollout (in another terminal, first): it waits for the state, saying so, and
// then follows the rollout (loose19: it exited 2 at once); `status` alone still exits 2 on a folder with no state.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { runCli, testContext } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';
import { until } from '../helpers/until.js';
import { snapshot } from '../state/helpers.js';

describe('status --watch before the rollout has a state', () => {
  it('waits for it, says so once, then exits with the rollout', async () => {
    const cwd = tempDir();
    const ctx = testContext({ cwd });
    const watching = main(['node', 'bluegreen', 'status', '--watch', '--interval', '100', '--state-dir', 'st'], ctx);
    await until(() => ctx.err().includes('waiting'), 'the waiting notice');
    expect(ctx.err()).toBe(`bluegreen: no rollout state in ${path.join(cwd, 'st')} yet: waiting for a rollout to start there (Ctrl-C to stop)\n`);
    // The folder appears with the rollout; state.json is written whole (temp file + rename), as the rollout does.
    const dir = path.join(cwd, 'st');
    await runCli(['status', '--state-dir', 'st'], { cwd }).then((once) => expect(once.code).toBe(2));
    mkdirSync(dir);
    const finished = snapshot({ phase: 'rolled_back', endedAt: 1_700_000_002_000, exitCode: 10, greenWeight: 0 });
    writeFileSync(path.join(dir, 'state.tmp'), JSON.stringify(finished));
    renameSync(path.join(dir, 'state.tmp'), path.join(dir, 'state.json'));
    expect(await watching).toBe(10);
    expect(ctx.err().match(/waiting/g)).toHaveLength(1);
    // The run it waited for is not one that "had already ended".
    expect(ctx.err()).not.toContain('already ended');
  });
});

// fixb33: opened just before a new rollout on a folder holding a finished run, --watch reported that run's end (its
// 5 "nothing is left to recover", or its 10) with nothing saying it was not the rollout about to start.
describe('status --watch on a folder holding a run that had already ended', () => {
  it("reports that run's end with its exit code, saying on stderr that it had ended before --watch started", async () => {
    const cwd = tempDir();
    const dir = path.join(cwd, 'st');
    mkdirSync(dir);
    const finished = snapshot({ phase: 'rolled_back', endedAt: 1_700_000_002_000, exitCode: 10, greenWeight: 0 });
    writeFileSync(path.join(dir, 'state.json'), JSON.stringify(finished));
    for (const args of [[], ['--json']]) {
      const watched = await runCli(['status', '--watch', '--state-dir', 'st', ...args], { cwd });
      expect(watched.code).toBe(10);
      expect(watched.stderr).toBe(
        `bluegreen: rollout ${finished.plan.name} in ${dir} had already ended (rolled back) when --watch started: exit 10 is that run's, not a rollout's started since (--watch waits for a rollout only in a folder with no state yet)\n`,
      );
    }
  });
});
