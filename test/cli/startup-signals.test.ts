// A signal while the rollout is still starting (here: preflight waiting on an upstream that never answers) stops
// the start at once: exit code of the signal, lock released, the previous rollout's record left where it was.
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runRollout } from '../../src/cli/run-rollout.js';
import { CliError } from '../../src/core/exit.js';
import { StateStore } from '../../src/state/index.js';
import { testContext } from '../helpers/cli.js';
import { closeAfterTest } from '../helpers/close-after-test.js';
import { listenForTest } from '../helpers/loopback.js';
import { planFromYaml, tempDir } from '../helpers/plans.js';
import { refusedPort } from '../live/helpers.js';
import { until } from '../helpers/until.js';

/** `upstream`: the `127.0.0.1:port` of its base URL. */
function startingPlan(dir: string, upstream: string) {
  return planFromYaml(
    `
name: startup-signal
upstream: { base_url: "http://${upstream}/v1", api_key_env: STARTUP_KEY }
blue: { model: a }
green: { model: b }
traffic: { rate: 1 }
stages: [{ duration: 1m, green_weight: 0.5 }]
`,
    dir,
  );
}

function previousRecord(dir: string): string {
  const stateDir = path.join(dir, 'state');
  mkdirSync(stateDir);
  writeFileSync(path.join(stateDir, 'events.jsonl'), '{"at":1,"type":"finished","message":"the previous rollout"}\n');
  return stateDir;
}

describe('a start that does not get as far as traffic', () => {
  it('a failed preflight (exit 3) leaves the previous rollout record where it was', async () => {
    const dir = tempDir();
    const port = await refusedPort();
    const stateDir = previousRecord(dir);
    const error = (await runRollout({
      plan: startingPlan(dir, `127.0.0.1:${port}`),
      stateDir,
      seed: 1,
      ctx: testContext({ cwd: dir, env: { STARTUP_KEY: 'sk-startup-key-123456' } }),
      signals: new EventEmitter(),
      attachReporter: () => ({ finish: () => Promise.resolve() }),
    }).catch((e: unknown) => e)) as CliError;
    expect(error.exitCode).toBe(3);
    expect(existsSync(path.join(stateDir, 'events.jsonl'))).toBe(true);
  });

  it('stops it before any traffic moves: exit 130, lock released, previous record untouched', async () => {
    // Takes connections and never answers: preflight waits on it until the signal. Its connections are ended first,
    // or its close would wait for them.
    const held: Socket[] = [];
    const silent = createServer((socket) => held.push(socket));
    const upstream = await listenForTest(silent);
    closeAfterTest({ close: async () => held.forEach((socket) => socket.destroy()) });
    const dir = tempDir();
    const plan = startingPlan(dir, upstream);
    const stateDir = previousRecord(dir);
    const signals = new EventEmitter();
    const running = runRollout({
      plan,
      stateDir,
      seed: 1,
      ctx: testContext({ cwd: dir, env: { STARTUP_KEY: 'sk-startup-key-123456' } }),
      signals,
      attachReporter: () => ({ finish: () => Promise.resolve() }),
    });
    // Preflight has reached the silent upstream: the start is now waiting on it.
    await until(() => held.length > 0, 'the preflight to reach the upstream');
    signals.emit('SIGINT');
    const error = (await running.catch((e: unknown) => e)) as CliError;
    expect(error).toBeInstanceOf(CliError);
    expect(error.exitCode).toBe(130);
    expect(error.message).toContain('no traffic was moved');
    expect(existsSync(path.join(stateDir, 'events.jsonl'))).toBe(true);
    expect(existsSync(path.join(stateDir, 'lock'))).toBe(false);
    // Nothing holds the folder: a new rollout could take the lock.
    new StateStore(stateDir).acquireLock({ pid: process.pid, planName: 'next', startedAt: Date.now(), user: 'me', host: 'here' }).release();
  });
});
