// validate and rollout --dry-run refuse what the rollout refuses and warn about what looks wrong; the CLI's
// own usage and JSON contracts.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startWarnings } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';

const base = (extra: { traffic?: string; stages?: string; green?: string; analysis?: string } = {}) => `
name: parity
upstream:
  simulate: { seed: 1, models: { a: { latency: { p50: 2ms, p95: 4ms } }, b: { latency: { p50: 2ms, p95: 4ms } } } }
blue: { model: a }
green: { model: ${extra.green ?? 'b'} }
traffic: ${extra.traffic ?? '{ rate: 50 }'}
stages:
${extra.stages ?? '  - { duration: 1s, green_weight: 0.5 }\n  - { duration: 1s, green_weight: 1 }'}
analysis: ${extra.analysis ?? '{ min_requests: 5 }'}
`;

function folder(plan: string, files: Record<string, string> = {}): string {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'plan.yaml'), plan);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

/** validate, --dry-run and rollout on the plan in `cwd` each stop with exit 2 and `text`. */
async function expectUsageErrorEverywhere(cwd: string, text: string | RegExp): Promise<void> {
  for (const args of [
    ['validate', 'plan.yaml'],
    ['rollout', 'plan.yaml', '--dry-run'],
    ['rollout', 'plan.yaml', '--plain', '--state-dir', 'st'],
  ]) {
    const result = await runCli(args, { cwd });
    expect(result.code, args.join(' ')).toBe(2);
    if (typeof text === 'string') expect(result.stderr, args.join(' ')).toContain(text);
    else expect(result.stderr, args.join(' ')).toMatch(text);
  }
}

/** The warnings `bluegreen: warning: ...` lines in stderr carry (--dry-run, a rollout whose start fails). */
const warningsIn = (stderr: string) => [...stderr.matchAll(/^bluegreen: warning: (.*)$/gm)].map((match) => match[1]);

const GOOD_LINE = JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] });

/** Two short stages, for a test whose rollout need only start and end: 2 s of stages cost 1.4 s more. */
const SHORT_STAGES = '  - { duration: 300ms, green_weight: 0.5 }\n  - { duration: 300ms, green_weight: 1 }';

describe('validate and --dry-run run the rollout checks', () => {
  it('a sampled file with no usable line is exit 2 in validate, --dry-run and rollout alike', async () => {
    const cwd = folder(base({ traffic: '{ rate: 50, sampled: { file: s.jsonl } }' }), { 's.jsonl': 'not json\n{"x":1}\n' });
    await expectUsageErrorEverywhere(cwd, 'has no usable request: 2 line(s) skipped, the first at line 1: not JSON');
  });

  it('a sampled file with no usable line is said at the plan key that names it (plan.yaml:LINE:COL traffic.sampled.file)', async () => {
    // edges30: it named the data file alone, not the plan nor its key.
    const cwd = folder(base({ traffic: '{ rate: 50, sampled: { file: s.jsonl } }' }), { 's.jsonl': 'not json\n' });
    const line = readFileSync(path.join(cwd, 'plan.yaml'), 'utf8')
      .split('\n')
      .findIndex((text) => text.includes('file: s.jsonl'));
    const col = readFileSync(path.join(cwd, 'plan.yaml'), 'utf8').split('\n')[line]!.indexOf('s.jsonl') + 1;
    const where = `${path.join(cwd, 'plan.yaml')}:${line + 1}:${col} traffic.sampled.file: sampled traffic file ${path.join(cwd, 's.jsonl')} has no usable request`;
    await expectUsageErrorEverywhere(cwd, where);
    // --json gives the place as it gives a plan error's, in fields, not only inside the message.
    const json = await runCli(['validate', 'plan.yaml', '--json'], { cwd });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({
      valid: false,
      errors: [
        {
          file: path.join(cwd, 'plan.yaml'),
          line: line + 1,
          col,
          keyPath: 'traffic.sampled.file',
          message: expect.stringMatching(new RegExp(`^sampled traffic file ${path.join(cwd, 's.jsonl')} has no usable request`)) as unknown,
        },
      ],
    });
  });

  it('with an unusable sampled file and an upstream key not set, validate, --dry-run and rollout all stop on the file (exit 2)', async () => {
    // The rollout used to preflight its upstream first and stop there (exit 3) where its dry run said exit 2.
    const plan = base({ traffic: '{ rate: 50, sampled: { file: s.jsonl } }' }).replace(
      /upstream:\n.*\n/,
      'upstream: { base_url: "https://example.invalid/v1", api: openai, api_key_env: PARITY_KEY_NOT_SET }\n',
    );
    await expectUsageErrorEverywhere(folder(plan, { 's.jsonl': 'not json\n' }), 'has no usable request: 1 line(s) skipped, the first at line 1: not JSON');
  });

  it('skipped sampled lines are a warning with the count and the first line, in validate, --dry-run and rollout', async () => {
    // Its rollout need only start and end: short stages, and min_requests 1 so that they draw no warning of their own.
    const plan = base({ traffic: '{ rate: 50, sampled: { file: s.jsonl } }', stages: SHORT_STAGES, analysis: '{ min_requests: 1 }' });
    const cwd = folder(plan, { 's.jsonl': `${GOOD_LINE}\n${GOOD_LINE}\n{broken\n${GOOD_LINE}\n[]\n` });
    const warning = 's.jsonl: 2 line(s) skipped, the first at line 3: not JSON';
    const validate = await runCli(['validate', 'plan.yaml'], { cwd });
    expect(validate.code).toBe(0);
    expect(validate.stdout).toContain(`warning: ${cwd}/${warning}`);
    const json = JSON.parse((await runCli(['validate', 'plan.yaml', '--json'], { cwd })).stdout) as { warnings: string[] };
    expect(json.warnings).toEqual([expect.stringContaining(warning)]);
    const dryRun = await runCli(['rollout', 'plan.yaml', '--dry-run'], { cwd });
    expect(dryRun.code).toBe(0);
    expect(dryRun.stderr).toContain(warning);
    const rollout = await runCli(['rollout', 'plan.yaml', '--plain', '--state-dir', 'st', '--seed', '1'], { cwd });
    expect(rollout.code, rollout.stderr).toBe(0);
    // Journaled as the rollout starts, where the dashboard shows it (a line on stderr before it scrolled away).
    expect(startWarnings(path.join(cwd, 'st'))).toEqual([expect.stringContaining('line(s) skipped, the first at line 3: not JSON')]);
    expect(rollout.stderr).toContain('line(s) skipped, the first at line 3: not JSON');
  });

  it("warns alike in validate, --dry-run and rollout's start, the sampled file's users counted in each", async () => {
    // 50 requests at 50%: 25 green, give or take 4 split at random (short of 20 in 6% of runs); the file's 4 users
    // (a collision of 1/4) widen it to give or take 13 (34%). A rollout that left the users out said the former.
    const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: `q${i}` }], user: `user-${i % 4}` }));
    const cwd = folder(base({ traffic: '{ rate: 50, sampled: { file: s.jsonl } }', analysis: '{ min_requests: 20, thresholds: { error_rate: 0.5 } }' }), {
      's.jsonl': `${lines.join('\n')}\n`,
    });
    const validate = await runCli(['validate', 'plan.yaml', '--json'], { cwd });
    expect(validate.code).toBe(0);
    const { warnings } = JSON.parse(validate.stdout) as { warnings: string[] };
    expect(warnings).toEqual([
      expect.stringMatching(/^stages\[0\]\.duration: about 25 green request\(s\) at 50\/s, give or take 13 from run to run: .* in about 3\d% of runs/),
    ]);
    const dryRun = await runCli(['rollout', 'plan.yaml', '--dry-run'], { cwd });
    expect(dryRun.code, dryRun.stderr).toBe(0);
    expect(warningsIn(dryRun.stderr)).toEqual(warnings);
    const rollout = await runCli(['rollout', 'plan.yaml', '--plain', '--state-dir', 'st', '--seed', '1'], { cwd });
    expect([0, 10], rollout.stderr).toContain(rollout.code);
    expect(startWarnings(path.join(cwd, 'st'))).toEqual(warnings);
  });

  it("a rollout whose start fails (exit 3) says its start's warnings on stderr before its error: no journal line will", async () => {
    const plan = base({ green: 'a' }).replace(
      /upstream:\n.*\n/,
      'upstream: { base_url: "https://example.invalid/v1", api: openai, api_key_env: PARITY_KEY_NOT_SET }\n',
    );
    const cwd = folder(plan);
    const { warnings } = JSON.parse((await runCli(['validate', 'plan.yaml', '--json'], { cwd })).stdout) as { warnings: string[] };
    const sameModel = warnings.find((warning) => warning.includes('same model'));
    expect(sameModel).toBeDefined();
    const rollout = await runCli(['rollout', 'plan.yaml', '--plain', '--state-dir', 'st'], { cwd });
    expect(rollout.code, rollout.stderr).toBe(3);
    const lines = rollout.stderr.trim().split('\n');
    expect(lines.slice(0, -1)).toEqual(warningsIn(rollout.stderr).map((warning) => `bluegreen: warning: ${warning}`));
    expect(warningsIn(rollout.stderr)).toContain(sameModel);
    expect(lines.at(-1)).toContain('PARITY_KEY_NOT_SET');
  });

  it('a rollout refused at a lock another running rollout holds says its plan warnings on stderr before its error (review32)', async () => {
    const cwd = folder(base({ green: 'a' }));
    // Held by a process that runs: this test's own.
    mkdirSync(path.join(cwd, 'st'));
    writeFileSync(
      path.join(cwd, 'st', 'lock'),
      JSON.stringify({ pid: process.pid, planName: 'other', startedAt: Date.now(), user: 'u', host: hostname(), token: 't' }),
    );
    const rollout = await runCli(['rollout', 'plan.yaml', '--plain', '--state-dir', 'st'], { cwd });
    expect(rollout.code, rollout.stderr).toBe(2);
    expect(warningsIn(rollout.stderr).some((warning) => warning?.includes('same model') === true)).toBe(true);
  });

  it('with an Anthropic arm, validate, --dry-run and rollout skip the lines it cannot be sent and name the parameters left out alike', async () => {
    // validate and --dry-run used to read the file as for an OpenAI arm: no skipped line, no parameter left out.
    const lines = [
      { messages: [{ role: 'user', content: 'hi' }], seed: 7 },
      { messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] }] },
      { messages: [{ role: 'user', content: 'hello' }], seed: 8 },
    ];
    const plan = base({ traffic: '{ rate: 50, sampled: { file: s.jsonl } }', stages: SHORT_STAGES }).replace(
      /^green: .*$/m,
      'green: { model: b, upstream: { api: anthropic, simulate: { seed: 1, models: { b: { latency: { p50: 2ms, p95: 4ms } } } } } }',
    );
    const cwd = folder(plan, { 's.jsonl': `${lines.map((line) => JSON.stringify(line)).join('\n')}\n` });
    const warning = `${cwd}/s.jsonl: 1 line(s) skipped, the first at line 2: cannot be sent to an Anthropic arm: a input_audio content part (Anthropic takes text and images); ${cwd}/s.jsonl: parameters the Anthropic arm has no counterpart for were left out: seed (2)`;
    const validate = await runCli(['validate', 'plan.yaml', '--json'], { cwd });
    expect(validate.code, validate.stdout).toBe(0);
    expect((JSON.parse(validate.stdout) as { warnings: string[] }).warnings).toContain(warning);
    const dryRun = await runCli(['rollout', 'plan.yaml', '--dry-run'], { cwd });
    expect(warningsIn(dryRun.stderr)).toContain(warning);
    const rollout = await runCli(['rollout', 'plan.yaml', '--plain', '--state-dir', 'st', '--seed', '1'], { cwd });
    expect(rollout.code, rollout.stderr).toBe(0);
    expect(startWarnings(path.join(cwd, 'st'))).toContain(warning);
  });

  it('an empty prompts file is refused by validate, as the rollout refuses it', async () => {
    const cwd = folder(base({ traffic: '{ rate: 50, synthetic: { prompts: p.txt } }' }), { 'p.txt': '\n# nothing\n' });
    const result = await runCli(['validate', 'plan.yaml'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('traffic.synthetic.prompts: prompts file');
  });

  it('warns (exit 0) on decreasing weights, green = blue, and stages too short for min_requests', async () => {
    const plan = base({
      green: 'a',
      stages: '  - { duration: 10s, green_weight: 0.5 }\n  - { duration: 10s, green_weight: 0.25 }\n  - { duration: 1s, green_weight: 1 }',
      analysis: '{ min_requests: 100 }',
    });
    const result = await runCli(['validate', 'plan.yaml', '--json'], { cwd: folder(plan) });
    expect(result.code).toBe(0);
    const { warnings } = JSON.parse(result.stdout) as { warnings: string[] };
    expect(warnings).toEqual([
      "stages[1].green_weight: 0.25 is lower than the stage before (0.5): green's share goes down during the rollout",
      'green.model: green is the same model as blue (a) on the same upstream: the rollout would compare a model with itself',
      "stages[1].duration: about 125 green request(s) at 50/s, give or take 10 from run to run: close to analysis.min_requests (100), so in about 0.4% of runs fewer arrive and this stage's rules are not judged; make it longer or the rate higher",
      "stages[2].duration: about 50 green request(s) at 50/s, fewer than analysis.min_requests (100): this stage's rules cannot be judged; make it longer or the rate higher",
    ]);
    const dryRun = await runCli(['rollout', 'plan.yaml', '--dry-run'], { cwd: folder(plan) });
    expect(dryRun.code).toBe(0);
    expect(dryRun.stderr.match(/bluegreen: warning:/g)).toHaveLength(4);
  });
});

describe('usage and JSON contracts', () => {
  it('validate --json prints plan errors as JSON (exit 2)', async () => {
    const result = await runCli(['validate', 'plan.yaml', '--json'], { cwd: folder(base({ stages: '  - { duration: 1s, green_weight: 2 }' })) });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({
      valid: false,
      errors: [
        {
          file: 'plan.yaml',
          line: 9,
          col: 35,
          keyPath: 'stages[0].green_weight',
          message: 'must be between 0 and 1, found 2; write it as a fraction: 0.02 for 2%',
        },
      ],
      omitted: 0,
    });
    const missing = await runCli(['validate', 'nope.yaml', '--json'], { cwd: tempDir() });
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout)).toMatchObject({ valid: false, errors: [{ message: 'cannot read the file (no such file)' }] });
  });

  it('status --json prints its errors as JSON', async () => {
    const result = await runCli(['status', '--json', '--state-dir', 'none'], { cwd: tempDir() });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toEqual({ ok: false, exitCode: 2, errors: [{ message: expect.stringContaining('no rollout state in') }] });
  });

  it('a command line commander refuses is JSON on stdout too under --json (and still said on stderr)', async () => {
    const unknown = await runCli(['status', '--json', '--bogus'], { cwd: tempDir() });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--bogus'");
    expect(JSON.parse(unknown.stdout)).toEqual({ ok: false, exitCode: 2, errors: [{ message: "unknown option '--bogus'" }] });
    const missing = await runCli(['validate', '--json'], { cwd: tempDir() });
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout)).toEqual({ valid: false, errors: [{ message: "missing required argument 'plan'" }] });
    // --help and --version are no failures: their text stays as it is.
    const help = await runCli(['status', '--json', '--help'], { cwd: tempDir() });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: bluegreen status');
  });

  it('bluegreen with no arguments prints usage and exits 2; --help exits 0', async () => {
    const none = await runCli([], { cwd: tempDir() });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: bluegreen');
    expect((await runCli(['--help'], { cwd: tempDir() })).code).toBe(0);
    expect((await runCli(['rollout'], { cwd: tempDir() })).code).toBe(2);
  });

  it('a plan over 1 MiB is refused with a short message', async () => {
    const cwd = folder(`${base()}\n# ${'x'.repeat(1024 * 1024)}\n`);
    const result = await runCli(['validate', 'plan.yaml'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('plan.yaml:1:1 the file is more than 1048576 bytes; a plan may be at most 1 MiB\n');
  });

  it('a plan that never ends (/dev/zero) is read only as far as the limit, then refused', async () => {
    const result = await runCli(['validate', '/dev/zero'], { cwd: tempDir() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('the file is more than 1048576 bytes; a plan may be at most 1 MiB');
  });
});
