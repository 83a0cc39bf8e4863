// A plan read from a named pipe (`bluegreen validate p & envsubst < plan.tmpl > p`, or `<(...)`): opened without
// blocking, so a pipe nobody writes to is refused after a wait instead of holding open() for good, and a writer that
// opens it after the reader did is still waited for and read whole.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, constants, openSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPlanText } from '../../src/plan/plan-text.js';
import { PlanError } from '../../src/plan/errors.js';
import { killAfterTest } from '../helpers/processes.js';
import { tempDir } from '../helpers/plans.js';
import { driftingClock } from '../helpers/drifting-clock.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/bluegreen.js');

function fifo(): string {
  const file = path.join(tempDir('bluegreen-plan-pipe-'), 'plan.yaml');
  execFileSync('mkfifo', [file]);
  return file;
}

it('a named pipe nothing writes to is refused once its writer wait is over', () => {
  const file = fifo();
  let refused: unknown;
  try {
    readPlanText(file, 'plan.yaml', 100);
  } catch (error) {
    refused = error;
  }
  expect(refused).toBeInstanceOf(PlanError);
  expect((refused as PlanError).message).toBe('plan.yaml:1:1 nothing wrote to this named pipe within 0.1s');
});

describe("a named pipe's writer wait, on a wall clock stepped an hour at every reading", () => {
  const HOUR = 3_600_000;
  it.each([[-HOUR], [HOUR]])('step %i: refused after its steady wait, and a writer that comes meanwhile is read', (step) => {
    // A step back stretched the wait for the hour (the clock gives up on it), a step forward ended it at once.
    let refused: unknown;
    try {
      readPlanText(fifo(), 'plan.yaml', 300, driftingClock(step));
    } catch (error) {
      refused = error;
    }
    expect((refused as PlanError).message).toBe('plan.yaml:1:1 nothing wrote to this named pipe within 0.3s');
    const file = fifo();
    const text = 'name: piped\n';
    // The writer comes at the wait's third reading of the clock: a wall clock stepped forward had refused it by then.
    const writeAt = (reads: number) => {
      if (reads !== 3) return;
      const fd = openSync(file, constants.O_WRONLY | constants.O_NONBLOCK);
      writeSync(fd, text);
      closeSync(fd);
    };
    expect(readPlanText(file, 'plan.yaml', 60_000, driftingClock(step, writeAt))).toBe(text);
  });
});

it("a named pipe's writer is waited for, and its text read to its end", async () => {
  const file = fifo();
  // More than a pipe holds (64 KiB): the reader meets an empty pipe (EAGAIN) between the writer's chunks.
  const text = `name: piped\n# ${'x'.repeat(200_000)}\n`;
  const source = path.join(path.dirname(file), 'source.yaml');
  writeFileSync(source, text);
  // The writer's open waits for the reader, or the reader waits for it: either order ends in the same read.
  const writer = killAfterTest(spawn('sh', ['-c', 'cat "$0" > "$1"', source, file], { stdio: 'ignore' }));
  const exited = once(writer, 'exit');
  // A minute for the writer to start, not the default 5 s: under load a process start can take seconds.
  expect(readPlanText(file, 'plan.yaml', 60_000)).toBe(text);
  await exited;
});

it('an anonymous pipe closed empty (`true | bluegreen validate /dev/stdin`) is an empty plan at once, not waited for', () => {
  // Through a shell: its `|` is a pipe(2), where node's own stdio would be a socket pair.
  const result = spawnSync('sh', ['-c', 'true | "$0" "$1" validate /dev/stdin', process.execPath, BIN], { encoding: 'utf8', timeout: 60_000 });
  expect(result.status).toBe(2);
  expect(result.stderr).toBe('/dev/stdin:1:1 expected a mapping of keys at the top level, found an empty document\n');
});

// Before: "cannot read the file (ENXIO)", which said neither what /dev/stdin was nor how to pass the plan instead.
it("/dev/stdin that is a socket (node's spawn with piped stdio) is refused saying so and how to pass the plan", () => {
  const result = spawnSync(process.execPath, [BIN, 'validate', '/dev/stdin'], { input: 'name: piped\n', encoding: 'utf8', timeout: 60_000 });
  expect(result.status).toBe(2);
  expect(result.stderr).toBe(
    '/dev/stdin:1:1 cannot read the file: it is a socket (as /dev/stdin is when a program, not a shell, pipes into bluegreen), ' +
      'which cannot be opened by name; pass the plan as a file, or through a shell pipe (`cat plan.yaml | bluegreen validate /dev/stdin`)\n',
  );
});

// Before: a piped plan's folder was /dev (or /dev/fd), so `prompts: prompts.txt` read /dev/prompts.txt and an exec
// hook ran in /dev/fd: a plan written for its folder only worked as a file.
it('a plan through a pipe (`envsubst < plan.tmpl | bluegreen validate /dev/stdin`) takes its relative paths from the working folder', () => {
  const cwd = tempDir();
  writeFileSync(path.join(cwd, 'prompts.txt'), 'where is my order?\n');
  const plan = [
    'name: piped',
    'upstream: { simulate: { seed: 1, models: { a: {}, b: {} } } }',
    'blue: { model: a }',
    'green: { model: b }',
    'traffic: { rate: 20, synthetic: { share: 1, prompts: prompts.txt } }',
    'stages: [{ duration: 10s, green_weight: 0.5 }, { duration: 10s, green_weight: 1 }]',
    '',
  ].join('\n');
  // Through a shell, as an operator runs it: its `|` is a pipe(2) (node's own stdio would be a socket pair).
  const template = path.join(tempDir(), 'plan.tmpl');
  writeFileSync(template, plan);
  for (const target of ['/dev/stdin', '/dev/fd/0']) {
    const result = spawnSync('sh', ['-c', 'cat "$2" | "$0" "$1" validate "$3"', process.execPath, BIN, template, target], {
      cwd,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('plan piped: valid');
    expect(result.status).toBe(0);
  }
});
