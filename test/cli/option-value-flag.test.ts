// A file or folder option left without its value took the next flag as one (commander takes whatever follows):
// found by hostile32, `rollout plan.yaml --report-json --plain` wrote its report to a file named "--plain" and drew
// the dashboard, `status --state-dir --json` read a folder named "--json". Such a value is refused (exit 2), before
// any plan is read; a file so named is still reachable as ./--plain.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';

describe('an option whose value looks like another option', () => {
  it.each([
    [['rollout', 'plan.yaml', '--report-json', '--plain'], '--report-json expects a file, got "--plain"'],
    [['rollout', 'plan.yaml', '--junit', '--ci'], '--junit expects a file, got "--ci"'],
    [['rollout', 'plan.yaml', '--state-dir', '--dry-run'], '--state-dir expects a folder, got "--dry-run"'],
    [['status', '--state-dir', '-h'], '--state-dir expects a folder, got "-h"'],
    [['rollback', '--plan', '--state-dir', 'x'], '--plan expects a file, got "--state-dir"'],
    [['sim', '--config', '--port', '0'], '--config expects a file, got "--port"'],
  ])('%j is refused with exit 2, naming the flag', async (args, message) => {
    const dir = tempDir();
    const result = await runCli(args, { cwd: dir });
    expect(result.stderr).toContain(`bluegreen: ${message}, an option`);
    expect(result.code).toBe(2);
    expect(existsSync(path.join(dir, args.at(-1) ?? ''))).toBe(false);
  });

  it('status --state-dir --json answers in JSON, as --json asks', async () => {
    const result = await runCli(['status', '--state-dir', '--json'], { cwd: tempDir() });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, errors: [{ message: expect.stringContaining('--state-dir expects a folder') }] });
  });

  it('a name starting with a dash is still taken when written as a path', async () => {
    const result = await runCli(['status', '--state-dir', './-odd'], { cwd: tempDir() });
    expect(result.stderr).toMatch(/no rollout state in .*-odd/);
  });
});
