// A rollback whose proxy does not answer (it is restarting) tries blue again until that proxy's lease runs out:
// back up, a proxy serves the green route it saved until its lease ends, so giving up after three quick refused
// connections left real users on green for up to a lease after the rollout said "rolled back". Real processes.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, expect, it } from 'vitest';
import { tempDir } from '../helpers/plans.js';
import { BIN, journalHas } from '../e2e/helpers.js';

import { ADMIN_TOKEN, Application, proxyPorts, ProxyProcess, writeRolloutPlan } from './helpers.js';
import { until } from '../helpers/until.js';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

it('an interrupted rollout whose proxy is down at the rollback puts it on blue once it is back within its lease', async () => {
  const stateDir = tempDir();
  const ports = await proxyPorts();
  const first = new ProxyProcess(stateDir, ports);
  cleanup.push(() => first.kill());
  await first.start();
  const app = new Application([first], 1);
  cleanup.push(() => app.stop());
  // A lease far longer than the restart: without the retry the restarted proxy would serve green for most of it.
  const dir = writeRolloutPlan({ stages: ['{ duration: 5m, green_weight: 0.5 }'], controller: 'lease: 1m' }, [first.adminUrl]);
  const rollout = spawn(process.execPath, [BIN, 'rollout', 'plan.yaml', '--ci'], {
    cwd: dir,
    env: { PATH: process.env.PATH, ADMIN_TOKEN },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  cleanup.push(async () => void (rollout.exitCode === null && rollout.signalCode === null && rollout.kill('SIGKILL')));
  let stderr = '';
  rollout.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // A rollout that ended before (it failed the whole suite once, 60 s on this wait, not alone) says why at once.
  const running = () => {
    if (rollout.exitCode !== null || rollout.signalCode !== null) throw new Error(`the rollout ended (${rollout.exitCode ?? rollout.signalCode}): ${stderr}`);
    return true;
  };
  await until(() => running() && first.route()?.greenWeight === 0.5 && app.arms.green > 0, 'green answers in stage 1');
  // The proxy saves the route before it answers: killed before the rollout had its answer (the lease it runs to),
  // the rollback did not know to retry (under load). The stage has begun once the rollout journaled it.
  await until(journalHas(dir, 'stage_started'), 'the rollout to have the stage 1 answer');

  await first.kill();
  // Ctrl-C: the rollout rolls back to blue, and the proxy does not answer.
  const exited = once(rollout, 'exit');
  rollout.kill('SIGINT');
  await until(() => stderr.includes('interrupted by SIGINT: rolling back to blue'), 'the rollout to start rolling back');
  // Its saved route (green 0.5 under the lease) is what the proxy serves when it comes back...
  expect(first.route()).toMatchObject({ greenWeight: 0.5 });
  const again = new ProxyProcess(stateDir, ports);
  cleanup.push(() => again.kill());
  await again.start();
  // The rollout is still trying it (it gave up within milliseconds before).
  expect(rollout.exitCode, stderr).toBeNull();
  // ...until the rollback's retry reaches it: blue, and the rollout ends saying so.
  const [code] = (await exited) as [number | null];
  expect(code, stderr).toBe(130);
  expect(again.route()).toMatchObject({ greenWeight: 0, mirror: 0 });
  expect(stderr).not.toContain('check by hand');
});
