// A ./.env that is not a small regular file: read whole, a named pipe or /dev/zero hung validate and --dry-run.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { MAX_DOT_ENV_BYTES, readApiKey } from '../../src/upstream/api-key.js';
import { simulatedStagesPlan, tempDir, writePlan } from '../helpers/plans.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/bluegreen.js');

/** A folder with a plan whose key variable is not in the environment, so ./.env is read for it. */
function folder(): string {
  const dir = tempDir('bluegreen-dotenv-');
  writePlan(simulatedStagesPlan('dot-env', [{ duration: '2s', weight: 0.5 }], { apiKeyEnv: 'DOTENV_TEST_KEY' }), dir);
  return dir;
}

// A child process, not the CLI in this worker: before the fix its synchronous read never returned.
function run(args: string[], cwd: string) {
  return spawnSync(process.execPath, [BIN, ...args], { cwd, env: { PATH: process.env.PATH, CI: 'true' }, encoding: 'utf8', timeout: 60_000 });
}

it('a named pipe as .env is refused (exit 2) instead of waiting for a writer forever', () => {
  const dir = folder();
  execFileSync('mkfifo', [path.join(dir, '.env')]);
  for (const args of [
    ['validate', 'plan.yaml'],
    ['rollout', 'plan.yaml', '--dry-run'],
  ]) {
    const result = run(args, dir);
    expect(result.signal, `${args.join(' ')} still ran after 60 s`).toBeNull();
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toBe(
      `bluegreen: ${path.join(dir, '.env')} is a named pipe, not a file of NAME=value lines; remove it or set the key in the environment\n`,
    );
  }
});

it('a link to /dev/zero as .env is refused (exit 2) instead of read until memory runs out', () => {
  const dir = folder();
  symlinkSync('/dev/zero', path.join(dir, '.env'));
  const result = run(['rollout', 'plan.yaml', '--dry-run'], dir);
  expect(result.signal).toBeNull();
  expect(result.status, result.stderr).toBe(2);
  expect(result.stderr).toMatch(/\.env is a device, not a file of NAME=value lines/);
});

it('a .env over 1 MiB is refused; one of exactly 1 MiB is read', () => {
  const dir = tempDir('bluegreen-dotenv-');
  const line = 'DOTENV_TEST_KEY=sk-at-the-end\n';
  writeFileSync(path.join(dir, '.env'), `${'#'.repeat(MAX_DOT_ENV_BYTES - line.length - 1)}\n${line}`);
  expect(readApiKey('DOTENV_TEST_KEY', {}, dir)).toBe('sk-at-the-end');
  writeFileSync(path.join(dir, '.env'), `${'#'.repeat(MAX_DOT_ENV_BYTES - line.length)}\n${line}`);
  expect(() => readApiKey('DOTENV_TEST_KEY', {}, dir)).toThrow(/\.env is larger than 1 MiB, too large for a file of NAME=value lines/);
  // The environment comes first: a .env it makes unnecessary is not read at all.
  expect(readApiKey('DOTENV_TEST_KEY', { DOTENV_TEST_KEY: 'sk-env' }, dir)).toBe('sk-env');
});

it('a folder named .env is refused; a missing .env is still "not set"', () => {
  const dir = tempDir('bluegreen-dotenv-');
  expect(readApiKey('DOTENV_TEST_KEY', {}, dir)).toBeUndefined();
  mkdirSync(path.join(dir, '.env'));
  expect(() => readApiKey('DOTENV_TEST_KEY', {}, dir)).toThrow(/\.env is a folder, not a file of NAME=value lines/);
});

it('a .env that opens but cannot be read is refused (exit 2, naming it and the error), not taken for no .env', () => {
  // /proc/self/mem is a regular file that opens but fails every read at offset 0 (EIO): an unmapped address.
  const dir = folder();
  symlinkSync('/proc/self/mem', path.join(dir, '.env'));
  expect(() => readApiKey('DOTENV_TEST_KEY', {}, dir)).toThrow(
    `${path.join(dir, '.env')} could not be read (EIO); remove it or set the key in the environment`,
  );
  const result = run(['validate', 'plan.yaml'], dir);
  expect(result.status, result.stderr).toBe(2);
  expect(result.stderr).toBe(`bluegreen: ${path.join(dir, '.env')} could not be read (EIO); remove it or set the key in the environment\n`);
  // One that cannot be opened is still no .env: the key is "not set".
  const hidden = tempDir('bluegreen-dotenv-');
  symlinkSync(path.join(hidden, 'nowhere'), path.join(hidden, '.env'));
  expect(readApiKey('DOTENV_TEST_KEY', {}, hidden)).toBeUndefined();
});
