// The real engine and real Ink, in-process: reporterFor picks the dashboard for a terminal, keys on stdin steer
// the rollout, and the last frame is left on stdout when it ends.
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../../src/cli/context.js';
import { eventLoopTurns } from '../../helpers/turns.js';
import { until } from '../../helpers/until.js';
import { reporterFor } from '../../../src/cli/reporters.js';
import { runRollout } from '../../../src/cli/run-rollout.js';
import type { RolloutEvent } from '../../../src/engine/types.js';
import { planFromYaml, tempDir, simulatedPlan } from '../../helpers/plans.js';
import { forceColour } from './force-colour.js';
import { lockOwner } from '../../../src/cli/operator.js';
import { StateStore } from '../../../src/state/index.js';
import { deadPid } from '../../state/helpers.js';

// Colour on, so that the NO_COLOR tests show the dashboard itself dropping every escape code.
forceColour();

const PLAN = simulatedPlan('dashboard-in-process', '60s', 0.25);

const SGR = /\u001b\[[0-9;]*m/;

function terminalContext(dir: string, env: NodeJS.ProcessEnv = {}) {
  let out = '';
  let err = '';
  const stdout = Object.assign(new PassThrough(), { isTTY: true, columns: 100, rows: 30 });
  const stderr = new PassThrough();
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => stdin, ref: () => stdin, unref: () => stdin });
  const ctx: CliContext = { stdout, stderr, stdin, env: { USER: 'erin', TERM: 'xterm-256color', ...env }, cwd: dir, exitCode: 0 };
  return { ctx, stdin, out: () => out, err: () => err };
}

/**
 * Types the keys once the dashboard listens to its input, each after the previous one has been handled. Ink draws
 * nothing until the end when CI is set (CI runs this suite so), so the wait is on its input listener, not a frame.
 */
async function typeOnceListening(terminal: ReturnType<typeof terminalContext>, keys: string[]): Promise<void> {
  const stdin = terminal.stdin as unknown as PassThrough;
  await until(() => stdin.listenerCount('readable') + stdin.listenerCount('data') > 0, 'the dashboard to read its keys');
  for (const key of keys) {
    stdin.write(key);
    await eventLoopTurns(20);
  }
}

async function runWithKeys(keys: string[], env: NodeJS.ProcessEnv = {}, before?: (stateDir: string) => void) {
  const dir = tempDir();
  const plan = planFromYaml(PLAN, dir);
  const terminal = terminalContext(dir, env);
  const signals = new EventEmitter();
  const stateDir = path.join(dir, '.bluegreen');
  before?.(stateDir);
  const chooseReporter = await reporterFor(terminal.ctx, {}, stateDir);
  const code = runRollout({
    plan,
    stateDir,
    seed: 1,
    ctx: terminal.ctx,
    signals,
    attachReporter: (engine, hooks) => {
      engine.onEvent((event) => {
        if (event.type === 'stage_started' && event.stage === 0) void typeOnceListening(terminal, keys);
      });
      return chooseReporter(engine, hooks);
    },
  });
  const exitCode = await code;
  const journal = readFileSync(path.join(stateDir, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as RolloutEvent);
  return { exitCode, raw: terminal.out(), screen: stripVTControlCharacters(terminal.out()), stderr: terminal.err(), journal };
}

describe('rollout with the dashboard (in-process, real Ink)', () => {
  it('a aborts: exit 4, journaled for the dashboard user, final frame on stdout, nothing on stderr', async () => {
    const run = await runWithKeys(['a']);
    expect(run.exitCode).toBe(4);
    expect(run.journal.find((event) => event.type === 'abort_requested')?.actor).toMatch(/^erin@.+ \(dashboard\)$/);
    expect(run.screen).toContain('dashboard-in-process');
    expect(run.screen).toContain('■ ABORTED · exit 4');
    expect(run.stderr).toBe('');
  });

  it("shows the start's warnings (here a dead rollout's lock taken over), which stderr, under the dashboard, lost", async () => {
    const pid = await deadPid();
    // The lock a rollout killed -9 left: its owner's pid is gone.
    const run = await runWithKeys(['a'], {}, (stateDir) => void new StateStore(stateDir).acquireLock({ ...lockOwner('before', 1, {}), pid }));
    expect(run.exitCode).toBe(4);
    const said = `took over the lock of pid ${pid}, which is no longer running`;
    expect(run.journal.find((event) => event.type === 'warning')?.message).toContain(said);
    expect(run.screen).toContain(said);
    expect(run.stderr).toBe('');
  });

  it('P then y promotes (exit 0); p pauses first', async () => {
    const run = await runWithKeys(['p', 'P', 'y']);
    expect(run.exitCode).toBe(0);
    const types = run.journal.map((event) => event.type);
    expect(types).toContain('paused');
    expect(types).toContain('promote_requested');
    expect(run.screen).toContain('■ PROMOTED · exit 0');
  });

  it('ctrl-c takes the SIGINT path: exit 130, rolled back to blue', async () => {
    const run = await runWithKeys(['\u0003']);
    expect(run.exitCode).toBe(130);
    expect(run.screen).toContain('■ INTERRUPTED · exit 130');
  });

  it('colours in a terminal, and none at all under NO_COLOR', async () => {
    const plain = await runWithKeys(['a'], { NO_COLOR: '1' });
    const coloured = await runWithKeys(['a']);
    expect([plain.exitCode, coloured.exitCode]).toEqual([4, 4]);
    // Cursor movement is allowed (Ink redraws in place); SGR colour/style sequences are not.
    expect(coloured.raw).toMatch(SGR);
    expect(plain.raw).not.toMatch(SGR);
    expect(plain.screen).toContain('■ ABORTED');
  });
});
