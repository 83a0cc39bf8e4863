// lows30 (status29): `status` on a dead live rollout whose folder's proxy is back on blue by its lease. The owner line
// said "check that traffic is on blue" beside stderr's "the proxies are back on blue by their lease": one account
// now. And a route file older than the dead run's last route there (the proxy's write of it failed) is not taken
// for that proxy's state: its lapse is of an earlier lease, so the cautious words. Files written as each writer does.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LEASE_EXPIRED } from '../../src/proxy/route.js';
import type { RolloutSnapshot } from '../../src/engine/types.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';
import { deadPid, snapshot } from '../state/helpers.js';

const ADMIN = 'http://127.0.0.1:8788';
const LEASE_MS = 6000;
/** When the dead run last set the proxy's route, by the proxy's clock (the rollout started at 1_700_000_000_000). */
const LAST_SET = 1_700_000_030_000;

/** A dead run that drove the folder's proxy (alive: this process), whose route file says `route`. */
async function deadRunFolder(route: Record<string, unknown>, recorded: Record<string, unknown> = {}): Promise<string> {
  const cwd = tempDir();
  const dir = path.join(cwd, 'st');
  mkdirSync(dir);
  const dead = snapshot({ pid: await deadPid(), updatedAt: LAST_SET + 100 });
  const state = { ...dead, liveResume: { controllers: ['run-1'], read: {}, proxies: [ADMIN] } } as RolloutSnapshot;
  writeFileSync(path.join(dir, 'state.json'), JSON.stringify(state));
  writeFileSync(path.join(dir, 'events.jsonl'), '');
  const view = { url: ADMIN, reachable: true, greenWeight: 0.1, mirror: 0, leaseExpiresAt: LAST_SET + LEASE_MS, ...recorded };
  writeFileSync(path.join(dir, 'live.json'), JSON.stringify({ updatedAt: LAST_SET + 100, leaseMs: LEASE_MS, proxies: [view], stages: [] }));
  writeFileSync(path.join(dir, 'proxy.json'), JSON.stringify({ pid: process.pid, url: 'http://127.0.0.1:8787', adminUrl: ADMIN, startedAt: 1 }));
  writeFileSync(path.join(dir, 'proxy-route.json'), JSON.stringify({ greenWeight: 0, mirror: 0, controller: 'run-1', ...route }));
  return cwd;
}

describe('status on a dead live rollout whose proxy serves blue by its lease', () => {
  it('says so in the owner line as on stderr, when the route file is the lapse of its last lease there', async () => {
    const cwd = await deadRunFolder({ reason: LEASE_EXPIRED, updatedAt: LAST_SET + LEASE_MS, revision: 9 });
    const status = await runCli(['status', '--state-dir', 'st'], { cwd });
    expect(status.code).toBe(5);
    expect(status.stdout).toMatch(
      /owner pid \d+ is gone: the rollout stopped without finishing \(last update .* ago\); the proxies are back on blue by their lease \(read now\)\n/,
    );
    expect(status.stdout).not.toContain('check that traffic is on blue');
    expect(status.stderr).toContain('the proxies are back on blue by their lease (read now); run bluegreen rollback');
  });

  it('keeps the cautious words, in both, when the route file is older than the run’s last route there (its write failed)', async () => {
    // A lapse from before the run's last recorded route: the route in force is one the file never saw.
    for (const route of [
      { reason: LEASE_EXPIRED, updatedAt: LAST_SET - 1 },
      // A route of the run's whose lease has run out, older than its last renewal there.
      { greenWeight: 0.1, leaseExpiresAt: LAST_SET - 1 + LEASE_MS, reason: 'stage 1', updatedAt: LAST_SET - 1 },
    ]) {
      const status = await runCli(['status', '--state-dir', 'st'], { cwd: await deadRunFolder(route) });
      expect(status.code).toBe(5);
      expect(status.stdout).toMatch(/owner pid \d+ is gone: .*; check that traffic is on blue\n/);
      expect(status.stderr).toContain('traffic may not be on blue: run bluegreen rollback');
      expect(status.stderr).not.toContain('by their lease');
    }
    // Found by edges31: the run's last recorded renewal, written, its lease run out by the clock, was taken for blue.
    // But the running proxy writes its lapse as its lease runs out: one it did not write is a lapse it could not save,
    // or a lease a later renewal holds in memory (that renewal's write failed, and the run died before live.json said
    // so). The proxy's own lapse alone says blue.
    const written = await runCli(['status', '--state-dir', 'st'], {
      cwd: await deadRunFolder({ greenWeight: 0.1, leaseExpiresAt: LAST_SET + LEASE_MS, reason: 'stage 1', updatedAt: LAST_SET }),
    });
    expect(written.code).toBe(5);
    expect(written.stdout).toMatch(/owner pid \d+ is gone: .*; check that traffic is on blue\n/);
    expect(written.stderr).toContain('traffic may not be on blue: run bluegreen rollback');
    expect(written.stderr).not.toContain('by their lease');
  });
  it('keeps the cautious words when live.json records that the proxy took the run’s last route without saving it', async () => {
    // The proxy wrote its lapse; a renewal that came after (the run back from a suspension) it took and could not save
    // (its 500), which the run recorded before it died: the lapse in the file is not what the proxy serves.
    const unsaved = { unsaved: 'could not save the route to /st/proxy-route.json: ENOSPC' };
    const status = await runCli(['status', '--state-dir', 'st'], {
      cwd: await deadRunFolder({ reason: LEASE_EXPIRED, updatedAt: LAST_SET + LEASE_MS, revision: 9 }, unsaved),
    });
    expect(status.code).toBe(5);
    expect(status.stderr).toContain('traffic may not be on blue: run bluegreen rollback');
    expect(status.stderr).not.toContain('by their lease');
  });
});
