// status on a live rollout: the stage table is as of state.json's last save (once a second), the live section as
// of live.json's (each poll of the proxies, a few times a second). Each says its age, so live figures ahead of the
// table do not read as contradicting it.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/plans.js';
import { snapshot } from '../state/helpers.js';

const STARTED = 1_700_000_000_000;

function folder(withLive: boolean): string {
  const cwd = tempDir();
  mkdirSync(path.join(cwd, 'st'));
  writeFileSync(path.join(cwd, 'st', 'state.json'), JSON.stringify(snapshot({ startedAt: STARTED, updatedAt: STARTED + 10_000 })));
  if (withLive) {
    const live = {
      updatedAt: STARTED + 10_900,
      leaseMs: 5000,
      proxies: [{ url: 'http://127.0.0.1:8788', reachable: true, greenWeight: 0.1, mirror: 0, leaseExpiresAt: STARTED + 15_000 }],
      stages: [{ stage: 0, arms: { blue: { requests: 90, failures: 0 }, green: { requests: 10, failures: 0 } }, fallbacks: 0, mirrors: 0 }],
    };
    writeFileSync(path.join(cwd, 'st', 'live.json'), JSON.stringify(live));
  }
  return cwd;
}

describe('status with live traffic', () => {
  it("labels the stage table with state.json's age and the live section with live.json's", async () => {
    const clock = new FakeClock(STARTED + 11_200);
    const { stdout, code } = await runCli(['status', '--state-dir', 'st'], { cwd: folder(true), clock });
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    const table = lines.findIndex((line) => line.startsWith('  stage  green  verdict'));
    expect(lines[table - 1]).toBe('  stages, as saved 1.2s ago:');
    expect(lines).toContain('  live traffic (1 proxy, lease 5s, read 300ms ago):');
    // Without live traffic, the table is alone and its age is the owner line's "last update".
    const alone = await runCli(['status', '--state-dir', 'st'], { cwd: folder(false), clock });
    expect(alone.stdout).not.toContain('as saved');
    expect(alone.stdout).toContain('(last update 1.2s ago)');
  });

  it('on a rollout that ended: each proxy as last read, with its age, not "answering" now', async () => {
    // Session 35's user test: "answering" of a proxy the ended run last read minutes before.
    const cwd = folder(true);
    const state = path.join(cwd, 'st', 'state.json');
    writeFileSync(
      state,
      JSON.stringify(snapshot({ startedAt: STARTED, updatedAt: STARTED + 11_000, endedAt: STARTED + 11_000, phase: 'promoted', exitCode: 0, greenWeight: 1 })),
    );
    const { stdout, code } = await runCli(['status', '--state-dir', 'st'], { cwd, clock: new FakeClock(STARTED + 310_900) });
    expect(code).toBe(0);
    expect(stdout).toContain('  live traffic (1 proxy, lease 5s, read 5m00s ago):');
    expect(stdout).toContain('  answered 5m00s ago  http://127.0.0.1:8788  green 10%');
    expect(stdout).not.toContain('answering');
  });
});
