// The README and docs/ checked against the code: the example plans validate (rollouts/ whole, docs/ fragments
// merged into a live plan), the exit-code tables list the codes the CLI has, the commands table names every
// command and flag, the metrics table names what /metrics serves, and every internal link and anchor resolves.
import { execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { buildProgram, commandModules } from '../../src/cli/main.js';
import { EXIT } from '../../src/core/exit.js';
import { hookEnv, webhookPayload, type HookEvent } from '../../src/hooks/index.js';
import type { EventType } from '../../src/engine/types.js';
import { planSchema } from '../../src/plan/schema.js';
import { parseRoute } from '../../src/proxy/route.js';
import { runCli, testContext } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';
import { until } from '../helpers/until.js';
import { runProxy, setRoute, simPlan } from '../proxy/helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DOCS = readdirSync(path.join(ROOT, 'docs'))
  .filter((file) => file.endsWith('.md'))
  .map((file) => `docs/${file}`);
const PAGES = ['README.md', ...DOCS];
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
/** The variables the shipped plans name, set so that validate has nothing to warn about. */
const ENV = { OPENAI_API_KEY: 'x', ANTHROPIC_API_KEY: 'x', RELAY_API_KEY: 'x', AZURE_OPENAI_API_KEY: 'x', BLUEGREEN_ADMIN_TOKEN: 'x'.repeat(16) };

type Data = Record<string, unknown>;
const isMapping = (value: unknown): value is Data => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The rows of the first Markdown table after `heading`, as cells. */
function tableAfter(text: string, heading: string): string[][] {
  const rest = text.slice(text.indexOf(heading));
  expect(rest.length, `no "${heading}"`).toBeLessThan(text.length + 1);
  const lines = rest.split('\n');
  const start = lines.findIndex((line) => line.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.split(/(?<!\\)\|/).slice(1, -1));
  }
  return rows;
}

/** The codes in a table's first column: `129 / 130 / 143` is three. */
function exitCodesIn(text: string, heading: string): number[] {
  return tableAfter(text, heading)
    .flatMap((cells) => (cells[0] ?? '').split('/').map((code) => Number(code.trim())))
    .sort((a, b) => a - b);
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const match of text.replace(/```[\s\S]*?```/g, '').matchAll(/^#{1,6}\s+(.*)$/gm)) {
    const slug = (match[1] ?? '')
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    out.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return out;
}

describe('the docs match the code', () => {
  it('every plan in rollouts/ validates with no warning (its keys set) but what its rollout says of its sampled file', async () => {
    const plans = readdirSync(path.join(ROOT, 'rollouts')).filter((file) => file.endsWith('.yaml'));
    expect(plans).toContain('demo-live-rollback.yaml');
    // anthropic.yaml replays OpenAI-shaped samples on Claude on purpose: the parameters it leaves out are said, by
    // validate as by the rollout (docs/upstreams.md).
    const expected: Record<string, string[]> = {
      'anthropic.yaml': [
        `${path.join(ROOT, 'rollouts/samples/traffic.jsonl')}: parameters the Anthropic arm has no counterpart for were left out: response_format (2), seed (1), presence_penalty (1)`,
      ],
    };
    for (const plan of plans) {
      const result = await runCli(['validate', `rollouts/${plan}`, '--json'], { cwd: ROOT, env: ENV });
      expect(result.code, `${plan}: ${result.stdout}${result.stderr}`).toBe(0);
      expect((JSON.parse(result.stdout) as { warnings: string[] }).warnings, plan).toEqual(expected[plan] ?? []);
    }
  });

  it("every plan fragment in docs/ validates, merged into rollouts/demo-live.yaml (a fragment's blocks replace or extend the plan's)", async () => {
    const planKeys = new Set(Object.keys(planSchema.shape));
    const base = parse(read('rollouts/demo-live.yaml')) as Data;
    let checked = 0;
    for (const page of DOCS) {
      for (const match of read(page).matchAll(/```ya?ml\n([\s\S]*?)```/g)) {
        const lines = (match[1] ?? '').split('\n');
        const indent = Math.min(...lines.filter((line) => line.trim() !== '').map((line) => /^ */.exec(line)?.[0].length ?? 0));
        const fragment: unknown = parse(lines.map((line) => line.slice(indent)).join('\n'));
        // CI workflows and the like are not plans.
        if (!isMapping(fragment) || !Object.keys(fragment).every((key) => planKeys.has(key))) continue;
        const plan: Data = { ...base };
        for (const [key, value] of Object.entries(fragment)) plan[key] = isMapping(value) && isMapping(plan[key]) ? { ...plan[key], ...value } : value;
        const dir = tempDir();
        writeFileSync(path.join(dir, 'plan.yaml'), stringify(plan));
        const result = await runCli(['validate', 'plan.yaml'], { cwd: dir, env: ENV });
        expect(result.code, `${page}, fragment:\n${match[1]}\n${result.stderr}`).toBe(0);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(6);
  });

  it("README's and docs/ci.md's exit-code tables list exactly the CLI's exit codes", () => {
    const codes = Object.values(EXIT).sort((a, b) => a - b);
    expect(exitCodesIn(read('README.md'), '## Exit codes')).toEqual(codes);
    expect(exitCodesIn(read('docs/ci.md'), '## Exit codes')).toEqual(codes);
  });

  it("docs/ci.md's jobs give the key in the variable its plan, copied from rollouts/openai.yaml, names", () => {
    const named = (file: string) => [...read(file).matchAll(/api_key_env: ([A-Z0-9_]+)/g)].map((match) => match[1]);
    const plans = readdirSync(path.join(ROOT, 'rollouts')).filter((file) => file.endsWith('.yaml'));
    const known = new Set(plans.flatMap((plan) => named(`rollouts/${plan}`)));
    const ci = read('docs/ci.md');
    // Every key variable the page names is one a shipped plan reads, and the jobs' env sets openai.yaml's.
    for (const [variable] of ci.matchAll(/\b[A-Z][A-Z0-9_]*_API_KEY\b/g)) expect(known, variable).toContain(variable);
    const [key] = named('rollouts/openai.yaml');
    expect(ci).toContain(`${key}: \${{ secrets.${key} }}`);
  });

  it("README's commands table names every command and each command's every flag, and no other", () => {
    const program = buildProgram(testContext({ cwd: ROOT }), commandModules());
    const rows = tableAfter(read('README.md'), '## Commands');
    const documented = new Map<string, string[]>();
    for (const [name = '', text = ''] of rows) {
      const flags = [...text.matchAll(/`(--[a-z-]+)/g)].map((m) => m[1] as string);
      for (const command of (/`bluegreen ([a-z\\|]+)/.exec(name)?.[1] ?? '').split('\\|')) documented.set(command, flags);
    }
    const commands = program.commands.map((command) => command.name());
    expect([...documented.keys()].sort()).toEqual(commands.sort());
    for (const command of program.commands) {
      const flags = command.options.map((option) => option.long as string);
      expect(new Set(documented.get(command.name())), command.name()).toEqual(new Set(flags));
    }
  });

  it.each([
    ['chat', 'demo-live.yaml'],
    ['responses', 'demo-live.yaml'],
    ['messages', 'demo-live-anthropic.yaml'],
  ])("README's live demo: rollouts/demo-app.mjs --api %s through a proxy of rollouts/%s gets every answer, from both arms", async (api, plan) => {
    const running = await runProxy(read(`rollouts/${plan}`), { env: ENV });
    setRoute(running.proxy, 0.5);
    const app = path.join(ROOT, 'rollouts/demo-app.mjs');
    // As the README runs it: until Ctrl-C (SIGINT), sent once 20 answers are printed. A --duration by the clock sent
    // fewer than 15 requests on a loaded machine, whose timer fired late.
    // The Anthropic SDK adds /v1/messages itself.
    const base = api === 'messages' ? running.proxy.url : running.baseUrl;
    const child = spawn(process.execPath, [app, '--base-url', base, '--rate', '20', '--api', api], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // 'close', not 'exit': the exit can be seen before its summary, the last line on stderr, is read.
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await until(() => (stdout.match(/^#\d+ /gm) ?? []).length >= 20 || child.exitCode !== null, '20 answers from demo-app', 50_000);
    } finally {
      child.kill('SIGINT');
    }
    const code = await exited;
    const [, requests, blue, green, failed] = /demo-app: (\d+) requests: (\d+) blue, (\d+) green, 0 fallbacks, (\d+) failed\n$/.exec(stderr) ?? [];
    expect(Number(requests)).toBeGreaterThanOrEqual(20);
    expect(Number(blue) + Number(green)).toBe(Number(requests));
    expect(Number(blue)).toBeGreaterThan(0);
    expect(Number(green)).toBeGreaterThan(0);
    expect(failed).toBe('0');
    expect(code).toBe(0);
  });

  it('rollouts/demo-app.mjs refuses a --duration it cannot read (1m30s used to be read as 1 s, 2x as 2 s)', async () => {
    const app = path.join(ROOT, 'rollouts/demo-app.mjs');
    const failure = (await promisify(execFile)(process.execPath, [app, '--duration', '2x'], { cwd: ROOT }).catch((e: unknown) => e)) as {
      code: number;
      stderr: string;
    };
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain('--duration must be like 60s, 1m30s or 500ms');
  });

  it.each([
    [['--bogus'], "Unknown option '--bogus'"],
    [['--rate'], "'--rate <value>' argument missing"],
    [['--rate', '0'], '--rate must be a number of requests per second above 0 and at most 1000, not 0'],
  ])('rollouts/demo-app.mjs %j: exit 2 saying what is wrong, no stack trace', async (args, said) => {
    const app = path.join(ROOT, 'rollouts/demo-app.mjs');
    const failure = (await promisify(execFile)(process.execPath, [app, ...args], { cwd: ROOT }).catch((e: unknown) => e)) as {
      code: number;
      stderr: string;
    };
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain(said);
    expect(failure.stderr).not.toMatch(/\n\s+at /);
  });

  // A hand route's answer carries `rollout` (the proxy's stamp, not the caller's), which read as if a rollout set it.
  it("docs/proxy.md's GET /admin/route row names every field a route can carry", () => {
    const full = parseRoute({
      greenWeight: 0.5,
      mirror: 0,
      leaseExpiresAt: 1,
      promotedArm: 'green',
      reason: 'r',
      rollout: 'p (a -> b)',
      blueModel: 'a',
      controller: 'c',
      by: 'b',
      ended: true,
      updatedAt: 1,
      revision: 1,
    });
    const row =
      tableAfter(read('docs/proxy.md'), '## Route, lease and state')
        .find(([name = '']) => name.includes('`GET /admin/route`'))
        ?.join('|') ?? '';
    for (const field of Object.keys(full ?? {})) expect(row, field).toContain(`\`${field}\``);
  });

  it("docs/proxy.md's metrics table names exactly the metrics a running proxy serves", async () => {
    const running = await runProxy(simPlan({ proxy: '{}' }));
    const served = new Set([...(await (await fetch(`${running.proxy.url}/metrics`)).text()).matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]));
    const documented = new Set(
      tableAfter(read('docs/proxy.md'), '## Metrics').flatMap(([name = '']) => [...name.matchAll(/`(bluegreen_\w+)`/g)].map((m) => m[1])),
    );
    expect(documented).toEqual(served);
  });

  it("docs/operations.md's Hooks section names every variable an exec hook gets and every field a webhook gets", () => {
    const hooks = read('docs/operations.md').split('## Hooks')[1]?.split('\n## ')[0] ?? '';
    const event: HookEvent = { event: 'rollback', plan: 'p', stage: 2, stages: 5, greenWeight: 0.25, blueModel: 'a', greenModel: 'b', reason: 'r', at: 1 };
    for (const name of Object.keys(hookEnv(event, {}))) expect(hooks, name).toContain(`\`${name}\``);
    for (const field of Object.keys(webhookPayload(event))) expect(hooks, field).toContain(`"${field}"`);
  });

  it("docs/operations.md's State files section names every event type the journal can hold", () => {
    // A Record keyed by the type: the compiler fails this test when a type is added or removed.
    const types: Record<EventType, true> = {
      rollout_started: true,
      stage_started: true,
      stage_passed: true,
      stage_extended: true,
      stage_undecided: true,
      paused: true,
      resumed: true,
      promote_requested: true,
      abort_requested: true,
      breach: true,
      rolled_back: true,
      promoted: true,
      aborted: true,
      interrupted: true,
      failed: true,
      hook_succeeded: true,
      hook_failed: true,
      health_check_failed: true,
      health_check_recovered: true,
      warning: true,
      drained: true,
      finished: true,
    };
    const section = read('docs/operations.md').split('## State files')[1]?.split('\n## ')[0] ?? '';
    const named = new Set(
      [...section.matchAll(/`([a-z_|]+)`/g)].flatMap((m) => {
        const [first = '', ...rest] = (m[1] as string).split('|');
        const prefix = first.slice(0, first.lastIndexOf('_') + 1);
        return [first, ...rest.map((word) => prefix + word)];
      }),
    );
    for (const type of Object.keys(types)) expect(named, type).toContain(type);
  });

  it('every relative link resolves, to a heading that exists; README links every page in docs/', () => {
    const broken: string[] = [];
    // Each page read and its anchors found once, not once a link: the anchors of a long page took some 30 ms (a
    // regular expression over 800 kB of pages), 9 s over the pages' 289 links.
    const pages = new Map<string, { text: string; anchors?: Set<string> }>();
    const pageOf = (file: string) => {
      const known = pages.get(file);
      if (known) return known;
      const added = { text: read(file) };
      pages.set(file, added);
      return added;
    };
    for (const page of PAGES) {
      for (const match of pageOf(page).text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const link = match[1] as string;
        if (/^[a-z]+:/.test(link)) continue;
        const [file = '', anchor] = link.split('#');
        const target = file === '' ? page : path.join(path.dirname(page), file);
        let found: { text: string; anchors?: Set<string> };
        try {
          found = pageOf(target);
        } catch {
          broken.push(`${page}: ${link} (no such file)`);
          continue;
        }
        if (anchor === undefined) continue;
        found.anchors ??= anchors(found.text);
        if (!found.anchors.has(anchor)) broken.push(`${page}: ${link} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
    const readme = read('README.md');
    for (const page of DOCS) expect(readme, page).toContain(`](${page})`);
  });
});
