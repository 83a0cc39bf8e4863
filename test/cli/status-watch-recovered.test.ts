// lows30 (status29): a rollout whose process died, its end recorded by `bluegreen rollback`, keeps the dead run's exit 5
// in state.json. `status` exits 0 (it reports on itself: nothing is left to do); `status --watch` exits with the
// rollout's own code, 5, which a CI step waiting on it must not read as 0, and says on stderr whose 5 it is.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';
import { snapshot } from '../state/helpers.js';

describe('status on a rollout recovered by bluegreen rollback', () => {
  it('exits 0 alone and 5 under --watch, which says the 5 is the dead run’s and nothing is left to recover', async () => {
    const cwd = tempDir();
    const dir = path.join(cwd, 'st');
    mkdirSync(dir);
    const recovered = snapshot({ phase: 'rolled_back', endedAt: 1_700_000_002_000, exitCode: 5, greenWeight: 0, recoveredBy: 'bluegreen rollback' });
    writeFileSync(path.join(dir, 'state.json'), JSON.stringify(recovered));
    const once = await runCli(['status', '--state-dir', 'st'], { cwd });
    expect(once.code).toBe(0);
    expect(once.stdout).toContain('rolled back by bluegreen rollback after the run died (its exit 5)');
    // Its end is the recovery's time, not how long the dead run ran (it said "ran 18s" of a run dead after 5 s).
    expect(once.stdout).toMatch(/^ {2}started \S+, its end recorded \S+ later$/m);
    expect(once.stdout).not.toContain(', ran ');
    expect(once.stderr).toBe('');
    for (const args of [[], ['--json']]) {
      const watched = await runCli(['status', '--watch', '--state-dir', 'st', ...args], { cwd });
      expect(watched.code).toBe(5);
      expect(watched.stderr).toBe(
        `bluegreen: rollout ${recovered.plan.name} in ${dir} had already ended (rolled back) when --watch started: exit 5 is that run's, not a rollout's started since (--watch waits for a rollout only in a folder with no state yet)\n` +
          "bluegreen: exit 5 is the rollout's own: its process died, and bluegreen rollback recorded its end (rolled back); nothing is left to recover\n",
      );
    }
  });
});
