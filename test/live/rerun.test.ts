// Running a live rollout again after its promotion (a CI job re-run): it finds green promoted on the proxies and
// moves nobody back to blue; it ends promoted (exit 0) with a record that says so. --from-blue runs it again from
// stage 1; proxies of which only some are promoted are refused (exit 3) with nothing moved.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RolloutSnapshot } from '../../src/engine/types.js';
import { runCli, startWarnings } from '../helpers/cli.js';
import type { Running } from '../proxy/helpers.js';
import { ADMIN_TOKEN, liveFixture, putRoute, writeRolloutPlan } from './helpers.js';
import { until } from '../helpers/until.js';

const fixture = liveFixture();
const STAGES = ['{ duration: 500ms, green_weight: 0.5 }', '{ duration: 500ms, green_weight: 1 }'];

function stateOf(dir: string): RolloutSnapshot {
  return JSON.parse(readFileSync(path.join(dir, '.bluegreen', 'state.json'), 'utf8')) as RolloutSnapshot;
}

describe('a live rollout run again after its promotion', () => {
  it('moves nobody back to blue: exit 0, the proxy and since when named, the record and the report say so', async () => {
    const proxies = await fixture.startProxies(1);
    const proxy = proxies[0] as Running;
    const app = fixture.application(proxies);
    const dir = writeRolloutPlan({ stages: STAGES }, proxies);
    const first = await runCli(['rollout', 'plan.yaml', '--ci'], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(first.code, first.stderr).toBe(0);
    const promoted = proxy.proxy.route.stored;
    expect(promoted.promotedArm).toBe('green');
    // Requests in flight at the promotion may still answer blue: count from a settled point.
    const settled = app.total;
    await until(() => app.total > settled + 10, 'application requests after the promotion');
    const blueBefore = app.arms.blue;

    const again = await runCli(['rollout', 'plan.yaml', '--ci', '--report-json', 'again.json'], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(again.code, again.stderr).toBe(0);
    const since = new Date(promoted.updatedAt).toISOString();
    expect(again.stderr).toContain(`gpt-4.1 was already promoted on proxy ${proxy.proxy.adminUrl as string} since ${since}; nothing moved`);
    expect(again.stderr).not.toMatch(/stage 1\/2 started/);
    // The proxy's route was not touched, and the application saw green throughout.
    expect(proxy.proxy.route.stored).toEqual(promoted);
    const during = app.total;
    await until(() => app.total > during + 10, 'application requests after the re-run');
    expect(app.arms.blue).toBe(blueBefore);
    expect(app.failures).toBe(0);

    const state = stateOf(dir);
    expect(state).toMatchObject({ phase: 'promoted', exitCode: 0, greenWeight: 1 });
    expect(state.reason).toContain('was already promoted');
    expect(state.stages.every((stage) => stage.arms.blue.requests + stage.arms.green.requests === 0)).toBe(true);
    const journal = readFileSync(path.join(dir, '.bluegreen', 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { type: string }).type);
    // The start's warnings (its stages are short) are journaled right after it starts, where the dashboard shows them.
    const warned = startWarnings(path.join(dir, '.bluegreen')).map(() => 'warning');
    expect(journal).toEqual(['rollout_started', ...warned, 'promoted', 'drained', 'finished']);
    const report = JSON.parse(readFileSync(path.join(dir, 'again.json'), 'utf8')) as { outcome: { promoted: boolean; exitCode: number; reason: string } };
    expect(report.outcome).toMatchObject({ promoted: true, exitCode: 0 });
    expect(report.outcome.reason).toContain('nothing moved');
    const status = await runCli(['status'], { cwd: dir });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('was already promoted');
    expect(status.stdout).toMatch(/answered \S+ ago {2}\S+ {2}promoted green, no lease/);
    expect(again.stderr + again.stdout + status.stdout).not.toContain(ADMIN_TOKEN);
  });

  it('says a promotion set by hand is one: exit 0, nothing moved, but no rollout judged that green', async () => {
    const [proxy] = (await fixture.startProxies(1)) as [Running];
    await putRoute(proxy, { greenWeight: 1, mirror: 0, promotedArm: 'green', reason: 'promoted by hand' });
    const dir = writeRolloutPlan({ stages: STAGES }, [proxy]);
    const result = await runCli(['rollout', 'plan.yaml', '--ci'], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(result.code, result.stderr).toBe(0);
    const since = new Date(proxy.proxy.route.stored.updatedAt).toISOString();
    const said = `gpt-4.1 was already promoted on proxy ${proxy.proxy.adminUrl as string} since ${since} (set by hand or by an older bluegreen: no run id names a rollout that judged it); nothing moved`;
    expect(result.stderr).toContain(said);
    expect(stateOf(dir).reason).toContain(said);
  });

  it('--from-blue runs the stages again, saying what it undoes', async () => {
    const proxies = await fixture.startProxies(1);
    const proxy = proxies[0] as Running;
    fixture.application(proxies);
    await putRoute(proxy, { greenWeight: 1, mirror: 0, promotedArm: 'green', reason: 'promoted by hand' });
    const dir = writeRolloutPlan({ stages: STAGES }, proxies);
    const result = await runCli(['rollout', 'plan.yaml', '--ci', '--from-blue'], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`on proxy ${proxy.proxy.adminUrl as string} since`);
    // Journaled (the dashboard shows the journal: a line on stderr before it scrolled away at 80x24), in words that say
    // where the users go: not "moves its users back to stage 1's route".
    const events = readFileSync(path.join(dir, '.bluegreen', 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; message: string });
    const warning = events.find((event) => event.type === 'warning' && event.message.startsWith('--from-blue '));
    expect(warning?.message).toMatch(
      /^--from-blue undoes gpt-4\.1's promotion on proxy \S+ since \S+ \(set by hand or by an older bluegreen: no run id names a rollout that judged it\) and starts again at stage 1: blue \(gpt-4o\) with 50% of requests to green$/,
    );
    // With the start's other warnings (the plan's), right after rollout_started: the last of them.
    expect(startWarnings(path.join(dir, '.bluegreen')).at(-1)).toBe(warning?.message);
    expect(result.stderr.split(warning?.message ?? '?').length - 1).toBe(1);
    // Stage 1 split the application's requests again: blue answered some.
    expect(stateOf(dir).stages[0]?.arms.blue.requests).toBeGreaterThan(0);
    expect(proxy.proxy.route.stored.promotedArm).toBe('green');
  });

  it('refuses proxies of which only some are promoted (exit 3), moving none', async () => {
    const proxies = await fixture.startProxies(2);
    const [promoted, other] = proxies as [Running, Running];
    await putRoute(promoted, { greenWeight: 1, mirror: 0, promotedArm: 'green', reason: 'promoted' });
    const dir = writeRolloutPlan({ stages: STAGES }, proxies);
    const result = await runCli(['rollout', 'plan.yaml', '--ci'], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`is promoted on proxy ${promoted.proxy.adminUrl as string} since`);
    expect(result.stderr).toContain(`but not on proxy ${other.proxy.adminUrl as string} (green 0%, mirror 0%)`);
    expect(result.stderr).toContain('--from-blue');
    expect(promoted.proxy.route.stored.promotedArm).toBe('green');
    expect(other.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
  });
});
