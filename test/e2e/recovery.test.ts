// After kill -9: `status` says orphaned (exit 5), `bluegreen rollback` runs on_rollback and marks the state,
// a new rollout restores blue first, `--resume` goes on from the saved stage. And a seeded crash loop.
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/core/random.js';
import { runCli } from '../helpers/cli.js';
import { simulatedStagesPlan, tempDir } from '../helpers/plans.js';
import { exitOf, hookLog, journal, journalHas, loggingPlan, readState, startRollout } from './helpers.js';
import { isAlive } from '../helpers/processes.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { StateStore } from '../../src/state/index.js';
import { deadPid, snapshot } from '../state/helpers.js';
import path from 'node:path';
import type { RolloutSnapshot } from '../../src/engine/types.js';
import { until } from '../helpers/until.js';

async function killedAt(dir: string, condition: () => boolean, what: string, args: string[] = []): Promise<void> {
  const child = startRollout(dir, args);
  await until(condition, what);
  child.kill('SIGKILL');
  expect((await exitOf(child)).signal).toBe('SIGKILL');
}

describe('after kill -9', () => {
  it('status exits 5, rollback runs on_rollback once with the saved stage, then everything reads rolled back', async () => {
    const dir = tempDir();
    loggingPlan(dir);
    await killedAt(dir, journalHas(dir, 'stage_started'), 'stage 1');
    expect(hookLog(dir)).toEqual(['stage 0.25']);
    // Its start time with its pid (Linux): a pid given to another process since is not taken for it.
    expect(readState(dir).pidStart).toMatch(/^\d+$/);

    const status = await runCli(['status'], { cwd: dir });
    expect(status.code).toBe(5);
    expect(status.stderr).toContain('with green at 25%');
    const abort = await runCli(['abort'], { cwd: dir });
    expect(abort.code).toBe(5);
    expect(abort.stderr).toContain('run bluegreen rollback');

    const rollback = await runCli(['rollback'], { cwd: dir, env: { USER: 'ops' } });
    expect(rollback.code).toBe(0);
    expect(rollback.stdout).toContain('on_rollback ran; traffic is back on blue');
    expect(hookLog(dir)).toEqual(['stage 0.25', 'rollback 0']);
    expect(readState(dir)).toMatchObject({ phase: 'rolled_back', greenWeight: 0, exitCode: 5, stageIndex: 0 });
    const events = journal(dir);
    expect(events.slice(-3).map((e) => e.type)).toEqual(['hook_succeeded', 'rolled_back', 'finished']);
    expect(events.at(-2)?.actor).toMatch(/^ops@.+ \(bluegreen rollback\)$/);

    // Safe to run twice: nothing more runs.
    const again = await runCli(['rollback'], { cwd: dir });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('nothing to roll back');
    expect(hookLog(dir)).toEqual(['stage 0.25', 'rollback 0']);
    // status exits 0 there: the 5 it says is the dead run's, recorded by the rollback (not "rolled back (exit 5)").
    const after = await runCli(['status'], { cwd: dir });
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/^rollout \S+: rolled back by bluegreen rollback after the run died \(its exit 5\)$/m);
    expect(after.stdout).not.toContain('rolled back (exit 5)');
    expect((await runCli(['status', '--watch'], { cwd: dir })).code).toBe(5);
  });

  it('rollback also stops the on_stage hook the dead rollout left running', async () => {
    const dir = tempDir();
    loggingPlan(dir, { stageHookDelay: 'sleep 30' });
    // The hook's command starts only once hook.json holds its process group (test/e2e/hook-gate.test.ts): its first
    // line is enough to know the record is there.
    await killedAt(dir, () => existsSync(path.join(dir, 'hook.trace')), 'the hook to start');
    const hookPid = Number(readFileSync(path.join(dir, 'hook.pid'), 'utf8'));
    expect(isAlive(hookPid)).toBe(true);
    // state.json says 0% (the hook had not succeeded); the hook was setting 25%: status says it may be either.
    const status = await runCli(['status'], { cwd: dir });
    expect(status.code).toBe(5);
    expect(status.stderr).toContain("with green at 0% or 25% (its on_stage hook setting stage 1's 25% green was running when it died, and still runs)");
    const rollback = await runCli(['rollback'], { cwd: dir });
    expect(rollback.code).toBe(0);
    expect(rollback.stderr).toMatch(/stopped the on_stage hook \(process group \d+\) left running by the dead rollout\n/);
    expect(isAlive(hookPid)).toBe(false);
    expect(hookLog(dir)).toEqual(['rollback 0']);
  });

  it('a new rollout on the orphaned folder restores blue before its first on_stage', async () => {
    const dir = tempDir();
    loggingPlan(dir);
    await killedAt(dir, journalHas(dir, 'stage_started'), 'stage 1');
    const child = startRollout(dir);
    await until(() => hookLog(dir).length === 3, "the new rollout's on_stage");
    expect(hookLog(dir)).toEqual(['stage 0.25', 'rollback 0', 'stage 0.25']);
    expect(readFileSync(path.join(dir, '.bluegreen', 'events.prev.jsonl'), 'utf8')).toContain('bluegreen rollout');
    // live32: said in the new journal too, where the dashboard shows it (the stderr line before it scrolled away).
    const summary = journal(dir).filter((e) => e.type === 'warning' && e.message.includes('put back on blue before this rollout started'));
    expect(summary.map((e) => e.message)).toEqual([
      expect.stringMatching(
        /^the rollout of plan "\S+" \(pid \d+\) died without finishing, at stage 1\/\d+ with green at 25%: put back on blue before this rollout started \(on_rollback ran; traffic is back on blue\)$/,
      ),
    ]);
    child.kill('SIGTERM');
    expect((await exitOf(child)).code).toBe(143);
  });

  it('rollout --resume continues the same plan from its saved stage, and refuses another plan', async () => {
    const dir = tempDir();
    loggingPlan(dir, {
      stages: [
        { duration: '200ms', weight: 0.1 },
        { duration: '60s', weight: 0.5 },
        { duration: '60s', weight: 1 },
      ],
    });
    const stage2Green = () => (readState(dir) as unknown as RolloutSnapshot).stages[1]?.arms.green.requests ?? 0;
    await killedAt(dir, () => journal(dir).filter((e) => e.type === 'stage_started').length === 2 && stage2Green() >= 3, 'stage 2 with green results');
    const saved = stage2Green();
    const child = startRollout(dir, ['--resume']);
    await until(() => journal(dir).filter((e) => e.type === 'stage_started').length === 3, 'the resumed stage');
    // on_stage ran again for the saved stage's weight; the journal goes on from the dead run's, and so do the
    // stage's counts (its tests continue rather than start over).
    expect(hookLog(dir)).toEqual(['stage 0.1', 'stage 0.5', 'stage 0.5']);
    expect(journal(dir).find((e) => e.message.includes(`resumed at stage 2 (its tests go on from the ${saved} green and`))).toBeDefined();
    await until(() => stage2Green() > saved, 'the resumed stage to add to the saved counts');
    child.kill('SIGTERM');
    expect((await exitOf(child)).code).toBe(143);

    const other = tempDir();
    loggingPlan(other);
    await killedAt(other, journalHas(other, 'stage_started'), 'stage 1');
    loggingPlan(other, { name: 'edited' });
    const refused = await runCli(['rollout', 'plan.yaml', '--resume', '--plain'], { cwd: other });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('is not the plan the dead rollout ran');
  });

  it('crash loop: killed at seeded moments, each time rollback leaves valid state and the hooks end at weight 0', async () => {
    const dir = tempDir();
    // on_stage takes a moment, so some kills land while it runs.
    loggingPlan(dir, {
      stages: [
        { duration: '150ms', weight: 0.1 },
        { duration: '150ms', weight: 0.5 },
        { duration: '60s', weight: 1 },
      ],
      stageHookDelay: 'sleep 0.1',
    });
    // Journal lines up to stage 3: rollout_started, then (hook_succeeded, stage_started, stage_passed) per stage. Three
    // distinct ones, seeded (5, 7, 1): five draws with repeats (5, 5, 5, 5, 7) killed at two moments for five starts.
    const random = createRandom(11);
    const killAt: number[] = [];
    while (killAt.length < 3) {
      const line = 1 + Math.floor(random() * 8);
      if (!killAt.includes(line)) killAt.push(line);
    }
    for (const [round, lines] of killAt.entries()) {
      const before = journal(dir).length;
      const logged = hookLog(dir).length;
      // One read of the journal judged: three raced the new run's start (the first two could read the last round's
      // journal, the third none, as the start had set it aside), killing it before its first line.
      await killedAt(
        dir,
        () => {
          const read = journal(dir);
          return read.length >= lines && read[0]?.type === 'rollout_started' && read.length !== before;
        },
        `journal line ${lines}`,
      );
      const rollback = await runCli(['rollback'], { cwd: dir });
      const statePath = path.join(dir, '.bluegreen', 'state.json');
      if (!existsSync(statePath)) {
        // Killed before the first state write (a new rollout's, the last one's set aside): no hook can have run yet,
        // and rollback says so from the journal (edges24), marking it ended.
        expect(rollback.code, rollback.stderr).toBe(0);
        expect(rollback.stdout).toContain('died before its first record; nothing moved: traffic is on blue; nothing to roll back');
        expect(hookLog(dir).length).toBe(logged);
        continue;
      }
      expect(rollback.code, rollback.stderr).toBe(0);
      expect(() => readState(dir)).not.toThrow();
      expect(readState(dir)).toMatchObject({ greenWeight: 0 });
      expect(hookLog(dir).at(-1), `round ${round}, killed at journal line ${lines}`).toBe('rollback 0');
    }
    // Each round a fresh `node bin/bluegreen.js rollout` (its start-up alone takes 1-3 s on a loaded machine) running
    // up to three on_stage hooks of 0.1 s and a shell each: five rounds took 17 s at load 8, 22 s at load 18. The time
    // is the processes' start-up, which no event can shorten: each round kills at a moment no other round does.
  }, 150_000);
});

describe('rollback and secrets', () => {
  it("keeps the key out of on_rollback's environment, its output, the journal and the terminal", async () => {
    const canary = 'sk-canary-rollback-5e1d0c9b';
    const dir = tempDir();
    const planFile = path.join(dir, 'plan.yaml');
    writeFileSync(
      planFile,
      `${simulatedStagesPlan('canary', [{ duration: '60s', weight: 0.5 }], { apiKeyEnv: 'CANARY_KEY' })}hooks:
  pass_env: [CANARY_KEY]
  on_rollback: { exec: 'env > hook-env.txt; echo "the key is $CANARY_KEY" >&2; exit 3' }
`,
    );
    const store = new StateStore(path.join(dir, '.bluegreen'));
    await store.writeState(snapshot({ pid: await deadPid(), plan: { ...snapshot().plan, name: 'canary', file: planFile } }));
    const rollback = await runCli(['rollback'], { cwd: dir, env: { CANARY_KEY: canary, OTHER_COPY: canary } });
    // The hook failed, so the rollout stays unfinished (exit 5) and the hook's words were there to leak.
    expect(rollback.code, rollback.stderr).toBe(5);
    const events = readFileSync(store.eventsPath, 'utf8');
    expect(events).toContain('the key is [redacted]');
    for (const text of [rollback.stdout, rollback.stderr, events, readFileSync(store.statePath, 'utf8')]) expect(text).not.toContain(canary);
    // pass_env hands the hook its key on purpose; a copy under another name is withheld.
    expect(readFileSync(path.join(dir, 'hook-env.txt'), 'utf8')).not.toContain('OTHER_COPY=');
  });
});
