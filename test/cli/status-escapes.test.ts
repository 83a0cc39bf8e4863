// What a hand-edited state.json or journal holds reaches the terminal escaped: an escape sequence (a title set, the
// screen cleared, a C1 CSI) or a newline forging a line of its own is shown as written, and never acts.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';
import { CONTROL_CHARACTER_RANGES } from '../../src/core/format.js';
import type { RolloutEvent } from '../../src/engine/types.js';
import { deadPid, snapshot } from '../state/helpers.js';

/** Any control character but the newlines between lines. */
const CONTROL = new RegExp(`[${CONTROL_CHARACTER_RANGES}]`.replace('\\u0000-\\u001f', '\\u0000-\\u0009\\u000b-\\u001f'));

function folder(dead: boolean, pid: number): string {
  const cwd = tempDir();
  const dir = path.join(cwd, 'st');
  mkdirSync(dir);
  const event: RolloutEvent = { at: 1_700_000_000_500, type: 'warning', stage: 0, message: 'hook said \u009b2J\nowner pid 1 is running' };
  const title = '\u001b]0;pwned\u0007';
  const saved = snapshot({
    pid,
    plan: { ...snapshot().plan, name: `demo${title}`, greenModel: 'gpt\u001b[31m-red' },
    ...(dead ? {} : { phase: 'rolled_back', endedAt: 1_700_000_002_000, exitCode: 10 }),
    reason: 'breach \u001b[2J\u202eevil',
    recentEvents: [event],
  });
  writeFileSync(path.join(dir, 'state.json'), JSON.stringify(saved));
  const journaled: RolloutEvent = { at: 1_700_000_001_500, type: 'warning', stage: 0, message: 'journal \u001b[1A\u001b[2K' };
  writeFileSync(path.join(dir, 'events.jsonl'), [event, journaled].map((line) => `${JSON.stringify(line)}\n`).join(''));
  return cwd;
}

it("status shows a dead rollout's terminal escapes escaped, on stdout and in the orphan sentence on stderr", async () => {
  const run = await runCli(['status', '--state-dir', 'st'], { cwd: folder(true, await deadPid()) });
  expect(run.code).toBe(5);
  expect(run.stdout).not.toMatch(CONTROL);
  expect(run.stderr).not.toMatch(CONTROL);
  expect(run.stdout).toContain('rollout demo\\u001b]0;pwned\\u0007: orphaned');
  expect(run.stdout).toContain('gpt\\u001b[31m-red (green)');
  expect(run.stdout).toContain('reason: breach \\u001b[2J\\u202eevil');
  expect(run.stdout).toContain('hook said \\u009b2J\\u000aowner pid 1 is running');
  expect(run.stdout).toContain('journal \\u001b[1A\\u001b[2K');
  expect(run.stderr).toContain('the rollout of plan "demo\\u001b]0;pwned\\u0007"');
});

it('status --watch in lines shows the journal lines escaped too', async () => {
  const run = await runCli(['status', '--watch', '--state-dir', 'st'], { cwd: folder(false, process.pid) });
  expect(run.code).toBe(10);
  expect(run.stdout).not.toMatch(CONTROL);
  expect(run.stdout).toContain('hook said \\u009b2J\\u000aowner pid 1 is running');
});
