// `rollout --dry-run` sends nothing; `--ci --report-json --junit` leaves reports naming the breach.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { reportSchema } from '../../src/report/outcome/index.js';
import type { SimulatorHandle } from '../../src/sim/index.js';
import { simulatorFromYaml } from '../helpers/simulator.js';
import { runCli } from '../helpers/cli.js';
import { tempDir, writePlan } from '../helpers/plans.js';

async function sim(green: string): Promise<SimulatorHandle> {
  return simulatorFromYaml(`{ models: { a: { latency: { p50: 3ms, p95: 6ms } }, b: ${green} } }`);
}

const plan = (base: string) => `
name: report-test
upstream: { base_url: "${base}", api_key_env: KEY, retries: { max: 0 } }
blue: { model: a, price: { input_per_mtok: 1, output_per_mtok: 2 } }
green: { model: b, price: { input_per_mtok: 0.5, output_per_mtok: 1 } }
traffic: { rate: 50 }
stages:
  - { duration: 2s, green_weight: 0.5 }
  - { duration: 2s, green_weight: 1 }
analysis: { interval: 200ms, min_requests: 10, thresholds: { error_rate: 0.1 } }
`;

describe('rollout reports and dry run', () => {
  it('--dry-run prints the schedule and sends no request', async () => {
    const upstream = await sim('{ latency: { p50: 3ms, p95: 6ms } }');
    const dir = tempDir();
    writePlan(plan(upstream.baseUrl), dir);
    const result = await runCli(['rollout', 'plan.yaml', '--dry-run'], { cwd: dir, env: { KEY: 'k' } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('report-test');
    expect(upstream.requestCount()).toBe(0);
  });

  it('--ci --report-json --junit on a rollback: exit 10, the JSON names the rule, one failed stage case', async () => {
    const upstream = await sim('{ latency: { p50: 3ms, p95: 6ms }, error_rate: 0.7 }');
    const dir = tempDir();
    writePlan(plan(upstream.baseUrl), dir);
    const summary = path.join(dir, 'summary.md');
    const result = await runCli(['rollout', 'plan.yaml', '--ci', '--report-json', 'r.json', '--junit', 'r.xml'], {
      cwd: dir,
      env: { KEY: 'k', GITHUB_STEP_SUMMARY: summary, GITHUB_ACTIONS: 'true' },
    });
    expect(result.code, result.stderr).toBe(10);
    const report = reportSchema.parse(JSON.parse(readFileSync(path.join(dir, 'r.json'), 'utf8')));
    expect(report.outcome.exitCode).toBe(10);
    expect(report.outcome.breach?.rule).toBe('error_rate');
    expect(report.outcome.breach?.figure).toBeGreaterThan(0.1);
    const xml = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(path.join(dir, 'r.xml'), 'utf8')) as {
      testsuites: { testsuite: { testcase: { '@_name': string; failure?: unknown }[] } };
    };
    const failed = xml.testsuites.testsuite.testcase.filter((c) => c.failure !== undefined).map((c) => c['@_name']);
    expect(failed.some((name) => name.startsWith('stage 1'))).toBe(true);
    expect(failed.some((name) => name.includes('error_rate'))).toBe(true);
    expect(readFileSync(summary, 'utf8')).toContain('report-test');
    expect(result.stdout).toContain('::error title=bluegreen rollback::');
  });

  it('refuses a report path it cannot write before any traffic (exit 2)', async () => {
    const upstream = await sim('{ latency: { p50: 3ms, p95: 6ms } }');
    const dir = tempDir();
    writePlan(plan(upstream.baseUrl), dir);
    const result = await runCli(['rollout', 'plan.yaml', '--ci', '--junit', 'missing/dir/r.xml'], { cwd: dir, env: { KEY: 'k' } });
    expect(result.code).toBe(2);
    expect(upstream.requestCount()).toBe(0);
  });

  it('--dry-run refuses the report paths the real run would refuse (exit 2), so a CI dry run catches them', async () => {
    const upstream = await sim('{ latency: { p50: 3ms, p95: 6ms } }');
    const dir = tempDir();
    writePlan(plan(upstream.baseUrl), dir);
    const missing = await runCli(['rollout', 'plan.yaml', '--dry-run', '--junit', 'missing/dir/r.xml'], { cwd: dir, env: { KEY: 'k' } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot write the JUnit report to');
    const same = await runCli(['rollout', 'plan.yaml', '--dry-run', '--junit', 'r.out', '--report-json', 'r.out'], { cwd: dir, env: { KEY: 'k' } });
    expect(same.code).toBe(2);
    expect(same.stderr).toContain('would both be written to');
    expect(upstream.requestCount()).toBe(0);
  });

  it("refuses a report over the plan's sampled traffic or prompts (exit 2), which it would replace", async () => {
    const upstream = await sim('{ latency: { p50: 3ms, p95: 6ms } }');
    const dir = tempDir();
    writeFileSync(path.join(dir, 'traffic.jsonl'), '{"messages":[{"role":"user","content":"hi"}]}\n');
    writeFileSync(path.join(dir, 'prompts.txt'), 'hello\n');
    const traffic = 'traffic: { rate: 50, synthetic: { share: 0.5, prompts: prompts.txt }, sampled: { share: 0.5, file: traffic.jsonl } }';
    writePlan(plan(upstream.baseUrl).replace('traffic: { rate: 50 }', traffic), dir);
    const run = await runCli(['rollout', 'plan.yaml', '--dry-run', '--report-json', 'traffic.jsonl', '--junit', './prompts.txt'], {
      cwd: dir,
      env: { KEY: 'k' },
    });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(
      `cannot write the JSON report to ${path.join(dir, 'traffic.jsonl')}: that is the plan's sampled traffic (traffic.sampled.file)`,
    );
    expect(run.stderr).toContain(
      `cannot write the JUnit report to ${path.join(dir, 'prompts.txt')}: that is the plan's prompts file (traffic.synthetic.prompts)`,
    );
    expect(readFileSync(path.join(dir, 'prompts.txt'), 'utf8')).toBe('hello\n');
  });

  it('refuses a $GITHUB_STEP_SUMMARY naming the plan (exit 2): the summary would be appended to it', async () => {
    const upstream = await sim('{ latency: { p50: 3ms, p95: 6ms } }');
    const dir = tempDir();
    writePlan(plan(upstream.baseUrl), dir);
    const before = readFileSync(path.join(dir, 'plan.yaml'), 'utf8');
    const run = await runCli(['rollout', 'plan.yaml', '--ci'], { cwd: dir, env: { KEY: 'k', GITHUB_STEP_SUMMARY: path.join(dir, 'plan.yaml') } });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(`cannot append the step summary ($GITHUB_STEP_SUMMARY) to ${path.join(dir, 'plan.yaml')}: that is the plan file`);
    expect(readFileSync(path.join(dir, 'plan.yaml'), 'utf8')).toBe(before);
    expect(upstream.requestCount()).toBe(0);
  });
});
