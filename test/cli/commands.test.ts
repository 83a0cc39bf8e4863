// The CLI's surface: help, version, validate, schema, and exit codes for bad input.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { planJsonSchema } from '../../src/cli/commands/schema.js';
import { VERSION } from '../../src/cli/version.js';
import { runCli } from '../helpers/cli.js';
import { simulatedPlan, tempDir, writePlan } from '../helpers/plans.js';
import { refusedPort } from '../live/helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const COMMANDS = ['rollout', 'status', 'validate', 'schema', 'sim', 'pause', 'resume', 'promote', 'abort', 'rollback', 'proxy'];

describe('bluegreen CLI', () => {
  it('lists every command in --help and prints the version', async () => {
    const help = await runCli(['--help'], { cwd: ROOT });
    expect(help.code).toBe(0);
    for (const command of COMMANDS) expect(help.stdout).toContain(`  ${command}`);
    expect(help.stdout).toContain('Exit codes');
    const version = await runCli(['--version'], { cwd: ROOT });
    expect(version).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
  });

  // An example of the command itself (rollback's opens with `bluegreen status`), maybe after the environment
  // it needs (proxy's opens with the admin token variable its plan names).
  it.each(COMMANDS)('%s --help shows an example', async (command) => {
    const result = await runCli([command, '--help'], { cwd: ROOT });
    expect(result.code).toBe(0);
    const examples = result.stdout.slice(result.stdout.search(/\nExamples?:\n/));
    expect(examples).toMatch(new RegExp(`\\n {2}\\$ ([A-Z_]+=\\S+ )*bluegreen ${command}\\b`));
  });

  // force-blue-after.ts exits 5 when the proxies went to blue but the journal could not note it
  // (test/hostile/rollback-read-only.test.ts); the help's list of --force-blue's exits left that out.
  it('rollback --help names each exit of --force-blue after the rollout ended, 5 (not recorded) included', async () => {
    const help = (await runCli(['rollback', '--help'], { cwd: ROOT })).stdout.replace(/\s+/g, ' ');
    const afterEnd = help.slice(help.indexOf('--force-blue after the rollout ended:'));
    for (const code of [0, 2, 3, 5]) expect(afterEnd).toMatch(new RegExp(`[:,] ${code} `));
  });

  it('exits 2 on an unknown command or option', async () => {
    expect((await runCli(['rolout'], { cwd: ROOT })).code).toBe(2);
    expect((await runCli(['validate', 'x.yaml', '--nope'], { cwd: ROOT })).code).toBe(2);
  });

  it('validates the demo plan with a summary', async () => {
    const result = await runCli(['validate', 'rollouts/demo.yaml'], { cwd: ROOT });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('plan demo-gpt-4o-to-gpt-4.1: valid');
    expect(result.stdout).toMatch(/total 1m00s, \d+ blue and \d+ green requests/);
    expect(result.stdout).toContain('estimated cost: blue $');
    expect(result.stdout).toContain('at most 1% false rollbacks (20 rule-stage checks, each bound 99.95% sure)');
  });

  it('says when a plan without rules gets the built-in guard', async () => {
    const dir = tempDir();
    writePlan(
      'name: x\nupstream: { simulate: { models: {} } }\nblue: { model: a }\ngreen: { model: b }\ntraffic: { rate: 5 }\nstages: [ { duration: 1s, green_weight: 0.5 } ]\n',
      dir,
    );
    const result = await runCli(['validate', 'plan.yaml'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("rolls back when shown: green's error rate above blue's by any margin (the built-in guard, as no error-rate rule is set)");
  });

  it('validates every example plan', async () => {
    for (const plan of ['demo.yaml', 'demo-rollback.yaml', 'openai.yaml', 'anthropic.yaml', 'relay.yaml']) {
      const result = await runCli(['validate', `rollouts/${plan}`, '--json'], { cwd: ROOT });
      expect(result.code, `${plan}: ${result.stderr}`).toBe(0);
      const parsed = JSON.parse(result.stdout) as { valid: boolean; summary: { stages: unknown[] } };
      expect(parsed.valid).toBe(true);
      expect(parsed.summary.stages.length).toBeGreaterThan(0);
    }
  });

  it('rejects green_weight 1.5 with exit 2, naming line, column and key path', async () => {
    const dir = tempDir();
    writePlan(
      `name: x
upstream: { simulate: { models: {} } }
blue: { model: a }
green: { model: b }
traffic: { rate: 5 }
stages:
  - { duration: 1s, green_weight: 0.5 }
  - { duration: 1s, green_weight: 1.5 }
`,
      dir,
    );
    const result = await runCli(['validate', 'plan.yaml'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('plan.yaml:8:35 stages[1].green_weight: must be between 0 and 1, found 1.5');
  });

  it('refuses --from-blue (exit 2, before anything starts) on a plan without proxy.admin, and beside --resume', async () => {
    const cwd = tempDir();
    writePlan(simulatedPlan('not-live', '1s', 0.5), cwd);
    const notLive = await runCli(['rollout', 'plan.yaml', '--from-blue', '--plain', '--state-dir', 'st'], { cwd });
    expect(notLive.code).toBe(2);
    expect(notLive.stderr).toContain(
      '--from-blue is for a live plan (one with proxy.admin) whose proxies already serve green as promoted; plan.yaml has no proxy.admin, so its rollouts always start from blue at stage 1: leave the flag out',
    );
    expect(existsSync(path.join(cwd, 'st'))).toBe(false);
    const dryRun = await runCli(['rollout', 'plan.yaml', '--from-blue', '--dry-run'], { cwd });
    expect(dryRun.code).toBe(2);
    const both = await runCli(['rollout', 'plan.yaml', '--from-blue', '--resume'], { cwd });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--from-blue and --resume ask for opposite starts');
  });

  it('exits 2 with a clear message for a missing plan file', async () => {
    const result = await runCli(['validate', 'nope.yaml'], { cwd: tempDir() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('nope.yaml:1:1 cannot read the file (no such file)');
    // A path outside the working folder is named as given, not as "../..:1:1".
    const outside = tempDir();
    const folder = await runCli(['validate', outside], { cwd: tempDir() });
    expect(folder.code).toBe(2);
    expect(folder.stderr).toContain(`${outside}:1:1 cannot read the file (it is a folder)`);
  });

  it('--check-upstream passes on the simulator and exits 3 when the upstream is unreachable', async () => {
    const ok = await runCli(['validate', 'rollouts/demo.yaml', '--check-upstream'], { cwd: ROOT });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('upstream: ok');

    const dir = tempDir();
    const port = await refusedPort();
    writePlan(
      `name: x
upstream: { base_url: "http://127.0.0.1:${port}/v1", api_key_env: MY_KEY }
blue: { model: a }
green: { model: b }
traffic: { rate: 5 }
stages: [ { duration: 1s, green_weight: 0.5 } ]
`,
      dir,
    );
    // Without --check-upstream the plan is valid, with a warning that the rollout would stop at preflight.
    const plain = await runCli(['validate', 'plan.yaml'], { cwd: dir });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain(
      'warning: MY_KEY is not set (looked in the environment and ./.env: export MY_KEY=... or put MY_KEY=... in ./.env): the rollout would stop at preflight (exit 3)',
    );
    expect((await runCli(['validate', 'plan.yaml'], { cwd: dir, env: { MY_KEY: 'sk-x' } })).stdout).not.toContain('MY_KEY');
    const missingKey = await runCli(['validate', 'plan.yaml', '--check-upstream'], { cwd: dir });
    expect(missingKey.code).toBe(3);
    expect(missingKey.stderr).toContain('MY_KEY is not set');
    const unreachable = await runCli(['validate', 'plan.yaml', '--check-upstream'], { cwd: dir, env: { MY_KEY: 'sk-live-very-secret' } });
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toContain(`could not reach http://127.0.0.1:${port}/v1`);
    expect(unreachable.stderr).not.toContain('sk-live-very-secret');
  });

  it('prints a JSON Schema for plans that matches docs/bluegreen.schema.json', async () => {
    const result = await runCli(['schema'], { cwd: ROOT });
    expect(result.code).toBe(0);
    const schema = JSON.parse(result.stdout) as { type: string; properties: Record<string, unknown>; required: string[] };
    expect(schema.type).toBe('object');
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['name', 'upstream', 'blue', 'green', 'traffic', 'stages']));
    expect(schema.required).toEqual(expect.arrayContaining(['name', 'stages']));
    // The committed copy the example plans point their editors at must not drift from the code.
    expect(JSON.parse(readFileSync(path.join(ROOT, 'docs/bluegreen.schema.json'), 'utf8'))).toEqual(planJsonSchema());
  });
});
