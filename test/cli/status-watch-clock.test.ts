// `status --watch` in lines prints a monitor line every 5 s of steady time, whichever way the wall clock steps
// (NTP, an operator, a resumed VM): on the wall clock a step back silenced it for the hour, a step forward printed one
// at the next read. On the fake clock (ctx.clock); the rollout is this test's process, so its owner is alive.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { RolloutSnapshot } from '../../src/engine/types.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { testContext } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';
import { until } from '../helpers/until.js';
import { event, snapshot } from '../state/helpers.js';

const HOUR = 3_600_000;

function writeState(dir: string, state: RolloutSnapshot): void {
  // Renamed into place, as the rollout writes it: a read mid-write would see a file cut short.
  writeFileSync(path.join(dir, 'state.next'), JSON.stringify(state));
  renameSync(path.join(dir, 'state.next'), path.join(dir, 'state.json'));
}

describe('status --watch on a stepping wall clock', () => {
  it('prints its monitor line every 5 s of steady time after the wall clock steps back an hour, then forward', async () => {
    const cwd = tempDir();
    const dir = path.join(cwd, 'st');
    mkdirSync(dir);
    writeState(dir, snapshot());
    const clock = new FakeClock();
    const ctx = testContext({ cwd, clock });
    const watching = main(['node', 'bluegreen', 'status', '--watch', '--interval', '1000', '--state-dir', 'st'], ctx);
    const start = clock.steadyNow();
    let reads = 1;
    // One read of the state a second: each ends with the loop asleep until the next (its timer then due).
    const settled = () => until(() => clock.nextDueAt() === start + reads * 1000, `read ${reads} of the state`);
    const seconds = async (count: number) => {
      for (let i = 0; i < count; i++) {
        await clock.advance(1000);
        reads++;
        await settled();
      }
    };
    const monitors = () => ctx.out().match(/ monitor /g)?.length ?? 0;
    await settled();
    expect(monitors()).toBe(1);
    clock.jumpWall(-HOUR);
    await seconds(4);
    expect(monitors()).toBe(1);
    await seconds(1);
    expect(monitors()).toBe(2);
    clock.jumpWall(HOUR);
    await seconds(4);
    expect(monitors()).toBe(2);
    await seconds(1);
    expect(monitors()).toBe(3);
    writeState(dir, snapshot({ phase: 'rolled_back', endedAt: 1_700_000_002_000, exitCode: 10, greenWeight: 0 }));
    await clock.advance(1000);
    expect(await watching).toBe(10);
  });

  it("prints the rollout's events after a step back of its wall clock, though their times are earlier than the last printed", async () => {
    const cwd = tempDir();
    const dir = path.join(cwd, 'st');
    mkdirSync(dir);
    const before = event(1_700_000_001_000, 'stage 1 started');
    writeState(dir, snapshot({ recentEvents: [before] }));
    const clock = new FakeClock();
    const ctx = testContext({ cwd, clock });
    const watching = main(['node', 'bluegreen', 'status', '--watch', '--interval', '1000', '--state-dir', 'st'], ctx);
    const start = clock.steadyNow();
    await until(() => clock.nextDueAt() === start + 1000, 'the first read');
    expect(ctx.out()).toContain('stage 1 started');
    // The rollout's wall clock stepped back an hour: its next events are stamped before the last one printed.
    writeState(dir, snapshot({ recentEvents: [before, event(before.at - HOUR, 'after the step'), event(before.at - HOUR, 'after the step')] }));
    await clock.advance(1000);
    await until(() => clock.nextDueAt() === start + 2000, 'the second read');
    expect(ctx.out().match(/after the step/g)).toHaveLength(2);
    expect(ctx.out().match(/stage 1 started/g)).toHaveLength(1);
    writeState(dir, snapshot({ phase: 'rolled_back', endedAt: 1_700_000_002_000, exitCode: 10, greenWeight: 0 }));
    await clock.advance(1000);
    expect(await watching).toBe(10);
  });
});
