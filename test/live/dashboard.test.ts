// A live rollout in a terminal: the real dashboard (Ink) over a real proxy and the openai client as the
// application. Its last frame shows the proxy's route, lease and health, and the live figures per stage.
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { testContext } from '../helpers/cli.js';
import type { Running } from '../proxy/helpers.js';
import { ADMIN_TOKEN, liveFixture, liveView, promoteWhen, writeRolloutPlan } from './helpers.js';

const fixture = liveFixture();

describe('live rollout dashboard', () => {
  it('shows the proxy and the live figures, shadow mirrors included, in its last frame', async () => {
    const proxies = await fixture.startProxies(1);
    fixture.application(proxies);
    // Stage 1 lasts until the rollout has read mirrored requests from the proxy, then the operator promotes: a 1 s stage
    // at load 20-30 could end before the rollout read any.
    const dir = writeRolloutPlan({ stages: ['{ duration: 5m, green_weight: 0, mirror: 1 }', '{ duration: 1s, green_weight: 0.5 }'] }, proxies);
    const ctx = testContext({ cwd: dir, env: { ADMIN_TOKEN, TERM: 'xterm-256color' }, tty: true });
    Object.assign(ctx.stdout, { columns: 100, rows: 40 });
    const run = main(['node', 'bluegreen', 'rollout', 'plan.yaml'], ctx);
    const stage1 = () => liveView(dir)?.stages[0];
    await promoteWhen(
      dir,
      run.then((code) => ({ code, stdout: ctx.out(), stderr: ctx.err() })),
      () => (stage1()?.arms.blue.requests ?? 0) > 0 && (stage1()?.mirrors ?? 0) > 0,
      'blue requests and their mirrors read in stage 1',
    );
    const code = await run;
    expect(code, ctx.err()).toBe(0);
    const screen = stripVTControlCharacters(ctx.out());
    const url = (proxies[0] as Running).proxy.adminUrl as string;
    expect(screen).toContain('live traffic (1 proxy, lease 5s):');
    expect(screen).toContain(`  answering  ${url}  promoted green, no lease`);
    expect(screen).toMatch(/ {2}stage {2}blue\+fb {3}green {2}green err {2}fallbacks {2}mirrors\n/);
    // Stage 1 is a shadow: every live request went to blue and was mirrored to green, so green's count is its mirrors.
    // The last frame's row: the output holds every frame, earlier ones from before the first mirror was read.
    const row = [...screen.matchAll(/\n {6}1 +(\d+) +(\d+) +(\d+) +(\d+) +(\d+)\n/g)].at(-1);
    if (!row) throw new Error(`no live row for stage 1 in:\n${screen}`);
    const [blue, green, , , mirrors] = row.slice(1).map(Number) as [number, number, number, number, number];
    expect(blue).toBeGreaterThan(0);
    expect(green).toBe(mirrors);
    expect(mirrors).toBeGreaterThan(0);
    expect(screen).not.toContain(ADMIN_TOKEN);
  });
});
