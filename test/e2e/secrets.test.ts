// A canary key, echoed by a failing exec hook, must not reach any stream, file, report or later hook.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulatedPlan, tempDir } from '../helpers/plans.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/bluegreen.js');
const CANARY = 'sk-canary-7f3a9c2e41d8b6f0';

const plan = `${simulatedPlan('canary', '2s', 0.5, { apiKeyEnv: 'CANARY_KEY' })}hooks:
  pass_env: [CANARY_KEY]
  on_stage: { exec: 'echo "url https://x.test/v1?key=$CANARY_KEY"; echo "{\\"key\\":\\"$CANARY_KEY\\"}"; echo "the key is $CANARY_KEY" >&2; exit 3' }
  on_rollback: { exec: 'printf "%s" "$BLUEGREEN_REASON" > reason.txt' }
`;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

function run(args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, [BIN, ...args], { cwd, env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 60_000 });
}

describe('secrets', () => {
  it('a key printed by a failing hook appears in no output, state file, report or next hook', () => {
    const dir = tempDir('bluegreen-canary-');
    writeFileSync(path.join(dir, 'plan.yaml'), plan);
    const summary = path.join(dir, 'summary.md');
    const env = { CANARY_KEY: CANARY, GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, CI: 'true' };
    const rollout = run(['rollout', 'plan.yaml', '--plain', '--state-dir', 'st', '--report-json', 'r.json', '--junit', 'r.xml'], dir, env);
    expect(rollout.status, rollout.stderr).toBe(10);
    const status = run(['status', '--json', '--state-dir', 'st'], dir, env);
    const events = readFileSync(path.join(dir, 'st', 'events.jsonl'), 'utf8');

    // The hook's words were there to leak, and were redacted in every form (plain, in a URL, JSON-escaped).
    expect(events).toContain('the key is [redacted]');
    expect(readFileSync(path.join(dir, 'reason.txt'), 'utf8')).toContain('[redacted]');
    const files = filesUnder(dir).filter((file) => !file.endsWith('plan.yaml'));
    expect(files.map((f) => path.relative(dir, f))).toEqual(
      expect.arrayContaining(['r.json', 'r.xml', 'summary.md', 'reason.txt', 'st/state.json', 'st/events.jsonl']),
    );
    const leaks = [
      ...[rollout.stdout, rollout.stderr, status.stdout, status.stderr].map((text, i) => ({ where: `stream ${i}`, text })),
      ...files.map((file) => ({ where: file, text: readFileSync(file, 'utf8') })),
    ].filter(({ text }) => text.includes(CANARY) || text.includes(encodeURIComponent(CANARY)));
    expect(leaks.map((leak) => leak.where)).toEqual([]);
    expect(rollout.stdout).toContain('::error');
  });

  it('hooks do not see the key variables unless hooks.pass_env lists them', () => {
    const dir = tempDir('bluegreen-canary-');
    const withheld = plan.replace('  pass_env: [CANARY_KEY]\n', '').replace(/on_stage: .*\n/, "on_stage: { exec: 'env > stage-env.txt; exit 3' }\n");
    writeFileSync(path.join(dir, 'plan.yaml'), withheld);
    // A copy of the key under another name is withheld too.
    const rollout = run(['rollout', 'plan.yaml', '--plain', '--state-dir', 'st'], dir, { CANARY_KEY: CANARY, OTHER_COPY: CANARY, CI: 'true' });
    expect(rollout.status, rollout.stderr).toBe(10);
    const seen = readFileSync(path.join(dir, 'stage-env.txt'), 'utf8');
    expect(seen).toContain('BLUEGREEN_EVENT=stage');
    expect(seen).not.toContain('CANARY_KEY=');
    expect(seen).not.toContain(CANARY);
  });
});
