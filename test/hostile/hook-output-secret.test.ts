// A hook's output is kept only as its last 4 KB. A key it printed just before that cut used to survive as its
// tail (the redactor knows whole keys and their first characters, not their last): found by hostile11, the
// key's last 29 characters in the terminal, events.jsonl, state.json and the JSON report.
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { runHook, type HookEvent } from '../../src/hooks/index.js';
import { createRedactor } from '../../src/core/redact.js';

const KEY = 'sk-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdef';
const EVENT: HookEvent = { event: 'stage', plan: 'p', stage: 1, stages: 2, greenWeight: 0.5, blueModel: 'a', greenModel: 'b', at: 0 };

let dir: string;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'bluegreen-hostile-hook-')));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it.each([
  ['stdout', 'printf "%s" "$H_KEY"; head -c 4066 /dev/zero | tr "\\0" x; echo; exit 3'],
  ['stderr', '{ printf "key=%s;" "$H_KEY"; head -c 4070 /dev/zero | tr "\\0" x; } >&2; exit 3'],
])('a key cut at the start of the kept %s leaves none of its characters', async (_stream, command) => {
  const outcome = await runHook({ exec: command, timeout: 10_000, retries: 0 }, EVENT, {
    cwd: dir,
    env: { PATH: process.env.PATH, H_KEY: KEY },
    secrets: { redactor: createRedactor([KEY]), envNames: ['H_KEY'], passEnv: ['H_KEY'] },
  });
  expect(outcome.ok).toBe(false);
  const all = JSON.stringify(outcome);
  // Any 8 characters in a row of the key's second half.
  for (let i = KEY.length / 2; i + 8 <= KEY.length; i++) expect(all).not.toContain(KEY.slice(i, i + 8));
  expect(outcome.message).toMatch(/exited 3/);
});
