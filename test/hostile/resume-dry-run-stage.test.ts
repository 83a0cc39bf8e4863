// hostile28: `rollout --resume --dry-run` of a live rollout killed in stage 2 said both "a real run starts at stage
// 1" (the proxies' line) and "--resume: would go on from stage 2/2" (the next line): an operator deciding whether
// to resume read two different plans for the same real run.
import { once } from 'node:events';
import { expect, it } from 'vitest';
import { journal } from '../e2e/helpers.js';
import { runCli } from '../helpers/cli.js';
import { until } from '../helpers/until.js';
import { ADMIN_TOKEN, liveFixture, writeRolloutPlan } from '../live/helpers.js';

const fixture = liveFixture();

it('a resumed live rollout dry run names the stage the real run goes on from, on the proxies line too', async () => {
  const [proxy] = await fixture.startProxies(1);
  if (!proxy) throw new Error('a proxy');
  const dir = writeRolloutPlan({ stages: ['{ duration: 1s, green_weight: 0.1 }', '{ duration: 5m, green_weight: 0.5 }'] }, [proxy]);
  const child = fixture.spawnRollout(dir);
  // The journal's stage index counts from 0: stage 2 under way, its route set.
  await until(() => journal(dir).some((event) => event.type === 'stage_started' && event.stage === 1), 'stage 2');
  child.kill('SIGKILL');
  await once(child, 'exit');

  const dry = await runCli(['rollout', 'plan.yaml', '--resume', '--dry-run', '--ci'], { cwd: dir, env: { ADMIN_TOKEN } });
  expect(dry.code, dry.stderr).toBe(0);
  expect(dry.stdout).toContain('--resume: would go on from stage 2/2');
  expect(dry.stdout).toMatch(/proxies: 1 proxy answered \(\S+ green 50%\); a real run goes on from stage 2\n/);
  expect(dry.stdout).not.toContain('a real run starts at stage 1');
});
