// leftalone11: hook.json said which on_stage hook a rollout killed with -9 was running, so `status` and `rollback`
// name both weights ("green at 10% or 50%"). A live rollout's stage move (a route PUT to each proxy) killed half
// way left no such record: status said 10% while a proxy already served 50%. The move is recorded the same way.
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';
import type { Running } from '../proxy/helpers.js';
import { adminRelay } from './admin-relay.js';
import { ADMIN_TOKEN, liveFixture, writeRolloutPlan } from './helpers.js';
import { until } from '../helpers/until.js';

const fixture = liveFixture();

describe('a live rollout killed with -9 while it moves the proxies to the next stage', () => {
  it('leaves the move in hook.json: status and rollback say green is at the old weight or the new one', async () => {
    const stateDir = tempDir();
    const [first, second] = (await fixture.startProxies(2)) as [Running, Running];
    // The second proxy's stage 2 route is held on the way until the test ends: the move stays half done.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const relay = await adminRelay(second.proxy.adminUrl as string, { before: (route) => (route.greenWeight === 0.5 ? held : Promise.resolve()) });
    try {
      const dir = writeRolloutPlan({ stages: ['{ duration: 1s, green_weight: 0.1 }', '{ duration: 5m, green_weight: 0.5 }'], controller: 'lease: 1m' }, [
        first.proxy.adminUrl as string,
        relay.url,
      ]);
      const child = fixture.spawnRollout(dir, ['--state-dir', stateDir]);
      const hookFile = path.join(stateDir, 'hook.json');
      await until(() => first.proxy.route.effective().greenWeight === 0.5, 'stage 2 on the first proxy');
      await until(() => existsSync(hookFile) && readFileSync(hookFile, 'utf8').includes('"stage":2'), 'the move recorded');
      child.kill('SIGKILL');
      await once(child, 'exit');
      const status = await runCli(['status', '--state-dir', stateDir], { cwd: dir, env: { ADMIN_TOKEN } });
      expect(status.code).toBe(5);
      const died = "with green at 10% or 50% (its move of the proxies to stage 2's 50% green was under way when it died)";
      expect(status.stderr).toContain(died);
      expect(status.stdout).toContain("  green at 10% or 50% (its move of the proxies to stage 2's 50% green was under way when it died)\n");
      const json = await runCli(['status', '--json', '--state-dir', stateDir], { cwd: dir, env: { ADMIN_TOKEN } });
      expect((JSON.parse(json.stdout) as { hook?: unknown }).hook).toEqual({ event: 'stage', stage: 2, greenWeight: 0.5, by: 'proxies' });
      const rollback = await runCli(['rollback', '--state-dir', stateDir], { cwd: dir, env: { ADMIN_TOKEN } });
      expect(rollback.code, rollback.stderr).toBe(0);
      expect(first.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
      expect(first.proxy.route.stored.reason).toContain(died.replace('with green', 'green'));
    } finally {
      release();
    }
  });
});
