// Numeric options are whole numbers in plain digits within their range: "1e400" (Infinity), "0x10", "" and
// "1.5" are usage errors (exit 2) naming the flag, before the plan is read or anything starts.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIntegerOption, WATCH_INTERVAL_MS } from '../../src/cli/options.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('parseIntegerOption', () => {
  it.each(['1e400', '1e3', '0x10', '', ' 7', '1.5', 'NaN', 'Infinity', '-1', '4294967296', '99999999999999999999'])('refuses "%s"', (text) => {
    expect(() => parseIntegerOption(text, '--seed', 0, 2 ** 32 - 1)).toThrow(`--seed expects a whole number from 0 to 4294967295, got "${text}"`);
  });

  it('takes digits within the range', () => {
    expect(parseIntegerOption('0', '--seed', 0, 10)).toBe(0);
    expect(parseIntegerOption('4294967295', '--seed', 0, 2 ** 32 - 1)).toBe(4294967295);
    expect(parseIntegerOption('-5', '--seed', -10, 10)).toBe(-5);
    // toBe compares with Object.is: -0 is not 0.
    expect(parseIntegerOption('-0', '--seed', 0, 10)).toBe(0);
  });
});

describe('numeric options on the command line', () => {
  it('rollout --seed 1e400 is exit 2 even with --dry-run, before the plan is read', async () => {
    const result = await runCli(['rollout', 'missing-plan.yaml', '--dry-run', '--seed', '1e400'], { cwd: tempDir() });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('bluegreen: --seed expects a whole number from 0 to 4294967295, got "1e400"\n');
  });

  it('sim --port and status --interval are held to the same rule', async () => {
    const sim = await runCli(['sim', '--port', '1e3'], { cwd: ROOT });
    expect(sim).toMatchObject({ code: 2, stderr: 'bluegreen: --port expects a whole number from 0 to 65535, got "1e3"\n' });
    const status = await runCli(['status', '--watch', '--interval', 'Infinity'], { cwd: tempDir() });
    expect(status).toMatchObject({ code: 2, stderr: 'bluegreen: --interval (milliseconds) expects a whole number from 100 to 3600000, got "Infinity"\n' });
  });
});

// The help was silent on ranges the option refuses outside of: an operator found them only by getting them wrong.
describe('--help gives the range each numeric option is refused outside of', () => {
  it.each([
    ['status', '--interval', ['--watch', '--interval', '1']],
    ['rollout', '--seed', ['missing-plan.yaml', '--seed', '-1']],
    ['sim', '--seed', ['--seed', '-1']],
    ['sim', '--port', ['--port', '70000']],
  ])('%s %s', async (command, flag, args) => {
    const refused = await runCli([command, ...args], { cwd: tempDir() });
    const range = /from (\d+) to (\d+)/.exec(refused.stderr);
    expect(refused.code, refused.stderr).toBe(2);
    expect(range).not.toBeNull();
    // Each option's entry starts a line with two spaces and a dash; its wrapped lines are indented further.
    const entries = (await runCli([command, '--help'], { cwd: ROOT })).stdout.split(/\n {2}(?=-)/);
    const entry = entries.find((text) => text.startsWith(`${flag} `))?.replace(/\s+/g, ' ');
    expect(entry).toContain(`${range?.[1]} to ${range?.[2]}`);
  });
});

// lows28: status --interval's default was written twice (the help's text, the parse's); one constant now says both.
it("status --help gives --interval's default as the parse uses it", async () => {
  const help = (await runCli(['status', '--help'], { cwd: ROOT })).stdout.replace(/\s+/g, ' ');
  expect(help).toContain(`(default ${WATCH_INTERVAL_MS.default})`);
});
