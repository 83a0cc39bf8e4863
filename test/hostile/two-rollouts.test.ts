// Two rollouts of one plan (different state folders) driving the same proxy. Found in session 13: the second took
// the proxy over the first's lease, each refused the other's routes and both rolled back; or, the first suspended
// past its lease while the second promoted (exit 0), the first came back and its rollback put the proxy on blue
// over that promotion, while the second's CI job believed green served everything. Real proxy processes on
// 127.0.0.1, rollouts as processes of their own.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RolloutSnapshot } from '../../src/engine/types.js';
import type { Route } from '../../src/proxy/route.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';
import { until } from '../helpers/until.js';
import { ADMIN_TOKEN, proxyPorts, liveFixture, type ProxyProcess, writeRolloutPlan } from '../live/helpers.js';

const fixture = liveFixture();

/**
 * A proxy process, and a first rollout (its own process) whose stage 1 (`duration`, green 0.5) it serves. Its lease
 * (5 m unless said) is never waited out: a test that needs it run out renews it short in the rollout's name
 * (renewFor). A 3 s lease's admin calls time out at 1 s, and a stall that long of a loaded machine rolled it back.
 */
async function firstRollout(duration: string, lease = '5m'): Promise<{ proxy: ProxyProcess; first: string; child: ChildProcess }> {
  const proxy = fixture.proxyProcess(tempDir(), await proxyPorts());
  await proxy.start();
  const first = writeRolloutPlan({ stages: [`{ duration: ${duration}, green_weight: 0.5 }`], controller: `lease: ${lease}` }, [proxy.adminUrl]);
  const child = fixture.spawnRollout(first);
  await until(() => proxy.route()?.greenWeight === 0.5, 'the first rollout on the proxy', 60_000);
  return { proxy, first, child };
}

/** A second rollout of the plan in a folder of its own, with traffic to judge: promoted (exit 0). Its folder and the route. */
async function secondPromotes(proxy: ProxyProcess): Promise<{ second: string; promotion: Route | undefined }> {
  fixture.application([proxy], 1);
  // 300 ms, not 1 s: its promotion is what the tests need (a stage that judged nothing is promoted too, on_unjudged).
  const second = writeRolloutPlan({ stages: ['{ duration: 300ms, green_weight: 0.5 }'], controller: 'lease: 5m' }, [proxy.adminUrl]);
  const promoted = await runCli(['rollout', 'plan.yaml', '--ci'], { cwd: second, env: { ADMIN_TOKEN } });
  expect(promoted.code, promoted.stderr).toBe(0);
  const promotion = proxy.route();
  expect(promotion).toMatchObject({ promotedArm: 'green', ended: true });
  return { second, promotion };
}

function state(dir: string): RolloutSnapshot {
  return JSON.parse(readFileSync(path.join(dir, '.bluegreen', 'state.json'), 'utf8')) as RolloutSnapshot;
}

function journal(dir: string): string {
  try {
    return readFileSync(path.join(dir, '.bluegreen', 'events.jsonl'), 'utf8');
  } catch {
    return '';
  }
}

async function putRoute(proxy: ProxyProcess, body: Record<string, unknown>): Promise<{ status: number; error?: string; code?: string }> {
  const answer = await fetch(`${proxy.adminUrl}/admin/route`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: answer.status, ...((await answer.json()) as { error?: string; code?: string }) };
}

describe('two rollouts of one plan on the same proxy', () => {
  it('a second one started while the first drives the proxy is refused at preflight (exit 3, nothing moved); the first goes on', async () => {
    const { proxy, first, child } = await firstRollout('10m');
    const holder = proxy.route()?.controller;

    const second = writeRolloutPlan({ stages: ['{ duration: 10m, green_weight: 0.5 }'], controller: 'lease: 5m' }, [proxy.adminUrl]);
    const dry = await runCli(['rollout', 'plan.yaml', '--ci', '--dry-run'], { cwd: second, env: { ADMIN_TOKEN } });
    expect(dry.code, dry.stderr).toBe(3);
    const run = await runCli(['rollout', 'plan.yaml', '--ci'], { cwd: second, env: { ADMIN_TOKEN } });
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain(`preflight: proxy ${proxy.adminUrl}: another rollout drives this proxy until its lease runs out at `);
    // Which rollout: who runs it, its pid and state folder.
    expect(run.stderr).toContain(`pid ${child.pid}, state folder ${path.join(first, '.bluegreen')}`);
    expect(run.stderr).toContain('; nothing was moved');
    expect(proxy.route()).toMatchObject({ controller: holder, greenWeight: 0.5 });

    // The first is untouched: promoted on request, it ends promoted (exit 0), the proxy on green.
    expect((await runCli(['promote'], { cwd: first, env: {} })).code).toBe(0);
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(0);
    expect(proxy.route()).toMatchObject({ promotedArm: 'green', controller: holder });

    // Once it ended, the second is a re-run: green is promoted already, nothing moves.
    const again = await runCli(['rollout', 'plan.yaml', '--ci'], { cwd: second, env: { ADMIN_TOKEN } });
    expect(again.code, again.stderr).toBe(0);
    expect(state(second).reason).toContain('was already promoted on proxy');
  }, 120_000);

  it('a rollout back after its lease ran out does not undo the promotion another completed meanwhile, and says so', async () => {
    // 6 s: back from its suspension, it renews (every 2 s) and finds the promotion soon.
    const { proxy, first, child } = await firstRollout('10m', '6s');
    // It heard the answer too (stopped waiting for it, it would wake to a timed-out stage move instead of a refusal).
    await until(() => journal(first).includes('"hook_succeeded"'), 'the first rollout to take the answer', 60_000);
    // Suspended (a paused VM, a laptop asleep) past its lease: the proxy goes back to blue, nobody holds it. Its last
    // renewal before, sent in its name, was short: the lease runs out now.
    child.kill('SIGSTOP');
    await proxy.renewFor(100);
    await until(() => proxy.route()?.reason === 'lease expired: back on blue', 'the lease to run out');

    const { second, promotion } = await secondPromotes(proxy);

    // Back, the first finds its route changed (its renewal refused) and rolls back: not over the promotion.
    child.kill('SIGCONT');
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(10);
    expect(proxy.route()).toEqual(promotion);
    const health = (await (await fetch(`${proxy.baseUrl.replace(/\/v1$/, '')}/healthz`)).json()) as { route: { greenWeight: number } };
    expect(health.route.greenWeight).toBe(1);
    // Its exit 10 does not claim blue: its reason says where traffic is, and why.
    const ended = state(first);
    expect(ended.phase).toBe('rolled_back');
    expect(ended.reason).not.toMatch(/rolled back to blue$/);
    expect(ended.reason).toContain(`proxy ${proxy.adminUrl}: /admin/route answered 409: another rollout promoted green here at `);
    expect(ended.reason).toContain('it serves green, that promotion left standing');
    // Not "check by hand that traffic is on blue": green serves there by the other rollout's right.
    expect(ended.reason).toContain('1 proxy still serves green, promoted there by another rollout that reported it done (');
    expect(ended.reason).toMatch(/: check by hand that green should serve there \(else an operator's PUT \/admin\/route puts it on blue\)$/);
    // Its breach names the rollout that took the proxy: its renewal found that one's route.
    expect(ended.breach?.message).toContain(`by another rollout (`);
    expect(ended.breach?.message).toContain(`state folder ${path.join(second, '.bluegreen')})`);

    // An operator can still put it on blue by hand at once.
    expect(await putRoute(proxy, { greenWeight: 0, mirror: 0, reason: 'operator: back to blue' })).toMatchObject({ status: 200 });
    expect(proxy.route()).toMatchObject({ greenWeight: 0, mirror: 0, reason: 'operator: back to blue' });
    expect(proxy.route()?.promotedArm).toBeUndefined();
  }, 120_000);

  it('a rollout resumed after another promoted meanwhile is refused (exit 3): it would move those users back', async () => {
    const { proxy, first, child } = await firstRollout('30s');
    child.kill('SIGKILL');
    await once(child, 'exit');
    await proxy.renewFor(100);
    await until(() => proxy.route()?.reason === 'lease expired: back on blue', 'the lease to run out');

    const { second, promotion } = await secondPromotes(proxy);

    for (const args of [['--dry-run'], []]) {
      const resumed = await runCli(['rollout', 'plan.yaml', '--ci', '--resume', ...args], { cwd: first, env: { ADMIN_TOKEN } });
      expect(resumed.code, resumed.stderr).toBe(3);
      expect(resumed.stderr).toContain(`--resume: gpt-4.1 was promoted on proxy ${proxy.adminUrl} since `);
      expect(resumed.stderr).toContain(`state folder ${path.join(second, '.bluegreen')}) after this rollout died`);
      expect(resumed.stderr).toContain('nothing was moved');
    }
    expect(proxy.route()).toEqual(promotion);
    // Still the dead rollout's record: bluegreen rollback can clear it.
    expect(state(first).phase).toBe('progressing');
  }, 120_000);
});
