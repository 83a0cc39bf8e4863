// `rollout --dry-run` on a live plan reads its proxies' routes as the real run's preflight does, and nothing
// more: no route set, no lease, no state written. It says when a real run would move nothing (green already
// promoted on every proxy) and stops where the real run would (some promoted: exit 3; a proxy not answering:
// exit 3). Real proxies on 127.0.0.1.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import type { Running } from '../proxy/helpers.js';
import { ADMIN_TOKEN, liveFixture, putRoute, refusedPort, writeRolloutPlan } from './helpers.js';

const fixture = liveFixture();
const STAGES = ['{ duration: 1m, green_weight: 0.5 }', '{ duration: 1m, green_weight: 1 }'];

const PROMOTED = { greenWeight: 1, mirror: 0, promotedArm: 'green', reason: 'promoted by hand' };

function dryRun(dir: string, extra: string[] = []) {
  return runCli(['rollout', 'plan.yaml', '--dry-run', '--ci', ...extra], { cwd: dir, env: { ADMIN_TOKEN } });
}

describe('rollout --dry-run on a live plan', () => {
  it('says a real run would move nothing when every proxy already serves this green as promoted, touching nothing', async () => {
    const proxies = await fixture.startProxies(2);
    for (const proxy of proxies) await putRoute(proxy, PROMOTED);
    const before = proxies.map((proxy) => proxy.proxy.route.stored);
    const dir = writeRolloutPlan({ stages: STAGES }, proxies);

    const result = await dryRun(dir);
    expect(result.code, result.stderr).toBe(0);
    const since = (index: number) =>
      `proxy ${proxies[index]?.proxy.adminUrl as string} since ${new Date(before[index]!.updatedAt).toISOString()} (set by hand or by an older bluegreen: no run id names a rollout that judged it)`;
    expect(result.stdout).toContain(
      `  proxies: gpt-4.1 is already promoted on ${since(0)}, ${since(1)}: a real run would move nothing (no stage, no hook) and end promoted at once, exit 0`,
    );
    expect(result.stdout).toContain('no traffic sent (dry run)');
    // Read only: the routes (and their times) as they were, and no state folder.
    expect(proxies.map((proxy) => proxy.proxy.route.stored)).toEqual(before);
    expect(existsSync(path.join(dir, '.bluegreen'))).toBe(false);
    expect(result.stdout + result.stderr).not.toContain(ADMIN_TOKEN);

    // --from-blue: a real run would roll out again; the dry run says so as the real run would.
    const fromBlue = await dryRun(dir, ['--from-blue']);
    expect(fromBlue.code, fromBlue.stderr).toBe(0);
    expect(fromBlue.stderr).toContain("--from-blue undoes gpt-4.1's promotion on proxy");
    expect(fromBlue.stdout).toContain('a real run starts at stage 1');
    expect(proxies.map((proxy) => proxy.proxy.route.stored)).toEqual(before);
  });

  it('names the proxies that answered when none is promoted; stops where the real run would', async () => {
    const proxies = await fixture.startProxies(2);
    const [first, second] = proxies as [Running, Running];
    // The proxies hold the upstream key: like the real run, the dry run of a plan that sends nothing upstream
    // itself neither needs the key nor reaches the upstream (nothing listens at this one).
    const upstream = `upstream: { base_url: "http://127.0.0.1:${await refusedPort()}/v1", api_key_env: UNSET_UPSTREAM_KEY }`;
    const dir = writeRolloutPlan({ stages: STAGES, upstream }, proxies);
    const plain = await dryRun(dir);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toContain(
      `  proxies: 2 proxies answered (${first.proxy.adminUrl as string} green 0%, ${second.proxy.adminUrl as string} green 0%); a real run starts at stage 1`,
    );
    expect(first.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });

    // Promoted on one of the two: the real run refuses (exit 3), and so does its dry run, with the same words.
    await putRoute(first, PROMOTED);
    const partly = await dryRun(dir);
    expect(partly.code).toBe(3);
    expect(partly.stderr).toContain(`is promoted on proxy ${first.proxy.adminUrl as string} since`);
    expect(partly.stderr).toContain(`but not on proxy ${second.proxy.adminUrl as string} (green 0%, mirror 0%)`);

    // A proxy that does not answer: a preflight failure, as for the real run.
    const gone = writeRolloutPlan({ stages: STAGES }, [`http://127.0.0.1:${await refusedPort()}`]);
    const unreachable = await dryRun(gone);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toContain('preflight: 1 of 1 proxies did not answer');
  });
});

// loose18: validate --check-upstream checked the upstream even for a live plan whose rollout sends nothing upstream
// itself (exit 3 for an upstream key only the proxies hold), and never the proxies the rollout's preflight reads.
describe('validate --check-upstream on a live plan', () => {
  it('checks the proxies as the rollout does, not an upstream the rollout never sends to', async () => {
    const proxies = await fixture.startProxies(2);
    const [first, second] = proxies as [Running, Running];
    const upstream = `upstream: { base_url: "http://127.0.0.1:${await refusedPort()}/v1", api_key_env: UNSET_UPSTREAM_KEY }`;
    const dir = writeRolloutPlan({ stages: STAGES, upstream }, proxies);
    const before = proxies.map((proxy) => proxy.proxy.route.stored);
    const checked = await runCli(['validate', 'plan.yaml', '--check-upstream'], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout).toContain(
      "upstream: not checked: a rollout of this plan sends nothing upstream itself (its proxies send the application's requests, with their own keys)",
    );
    expect(checked.stdout).toContain(
      `proxies: ok (2 proxies answered, serving this plan: ${first.proxy.adminUrl as string}, ${second.proxy.adminUrl as string})`,
    );
    expect(checked.stdout).not.toContain('UNSET_UPSTREAM_KEY');
    // Read only, as the rollout's preflight reads them.
    expect(proxies.map((proxy) => proxy.proxy.route.stored)).toEqual(before);
    const json = await runCli(['validate', 'plan.yaml', '--check-upstream', '--json'], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(json.code, json.stderr).toBe(0);
    expect((JSON.parse(json.stdout) as { checked: unknown }).checked).toEqual({ upstream: false, proxies: [first.proxy.adminUrl, second.proxy.adminUrl] });

    // The admin token unset: the rollout would stop at start (exit 2), and so does the check.
    const noToken = await runCli(['validate', 'plan.yaml', '--check-upstream'], { cwd: dir });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('proxy.admin.token_env names ADMIN_TOKEN, which is not set');
    // --state-dir says where the proxy is found, for --check-upstream only.
    expect((await runCli(['validate', 'plan.yaml', '--state-dir', dir], { cwd: dir })).code).toBe(2);

    // A proxy that does not answer: the rollout's preflight failure, exit 3.
    const gone = writeRolloutPlan({ stages: STAGES, upstream }, [`http://127.0.0.1:${await refusedPort()}`]);
    const unreachable = await runCli(['validate', 'plan.yaml', '--check-upstream'], { cwd: gone, env: { ADMIN_TOKEN } });
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toContain('preflight: 1 of 1 proxies did not answer');
  });
});
