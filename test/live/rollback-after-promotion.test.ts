// `bluegreen rollback` after a promotion: the promotion is the rollout's outcome, which rollback does not undo. An
// operator who ran it to get blue back used to read "already ended (promoted, exit 0); nothing to roll back" with
// green still serving and no word of how to go back; it now says so, and how, naming each proxy's admin route.
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import type { Running } from '../proxy/helpers.js';
import { ADMIN_TOKEN, liveFixture, putRoute, writeRolloutPlan } from './helpers.js';

const fixture = liveFixture();

describe('bluegreen rollback after a live promotion', () => {
  it('changes nothing (exit 0) and says how to put the proxies back on blue, which then works', async () => {
    const [proxy] = (await fixture.startProxies(1)) as [Running];
    const dir = writeRolloutPlan({ stages: ['{ duration: 500ms, green_weight: 1 }'] }, [proxy]);
    const rollout = await runCli(['rollout', 'plan.yaml', '--ci'], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(rollout.code, rollout.stderr).toBe(0);
    const promoted = proxy.proxy.route.stored;
    expect(promoted.promotedArm).toBe('green');

    const rollback = await runCli(['rollback'], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(rollback.stdout).toContain('already ended (promoted, exit 0); bluegreen rollback does not undo a promotion: green (gpt-4.1) stays');
    const route = `${proxy.proxy.adminUrl as string}/admin/route`;
    expect(rollback.stdout).toContain(`to go back to blue, PUT {"greenWeight":0,"mirror":0} with the admin token to ${route} (docs/proxy.md)`);
    expect(rollback.stdout).not.toContain('nothing to roll back');
    expect(proxy.proxy.route.stored).toEqual(promoted);

    // What it says to do puts the proxy on blue, its promotion no longer kept.
    await putRoute(proxy, JSON.parse(/PUT (\{.*?\})/.exec(rollback.stdout)?.[1] ?? '{}') as Record<string, unknown>);
    expect(proxy.proxy.route.stored).toMatchObject({ greenWeight: 0, mirror: 0 });
    expect(proxy.proxy.route.stored.promotedArm).toBeUndefined();
  });
});
