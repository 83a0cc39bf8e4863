// What the CLI loads: React as its production build whatever NODE_ENV says (leaving NODE_ENV as the user set it), the UI
// libraries only for a dashboard, and each command only the modules it uses.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundleChunks, modulesIn } from '../helpers/bundle.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * In a fresh process (modules load once per process): load the UI, then tell which React build runs. Only the
 * development build gives elements a `_store` (for its key warnings).
 */
function loadIn(env: NodeJS.ProcessEnv): { build: string; nodeEnv: string | null } {
  const script = `
    const { loadUiAsProduction } = await import('./dist/cli/production-ui.js');
    await loadUiAsProduction();
    const React = (await import('react')).default;
    const { jsx } = await import('react/jsx-runtime');
    const dev = (element) => Object.prototype.hasOwnProperty.call(element, '_store');
    // Compiled components call the JSX runtime: it must be the same build as react, or rendering throws.
    const builds = new Set([dev(React.createElement('div')), dev(jsx('div', {}))].map((d) => (d ? 'development' : 'production')));
    process.stdout.write(JSON.stringify({ build: [...builds].join('+'), nodeEnv: process.env.NODE_ENV ?? null }));`;
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env, encoding: 'utf8' });
  return JSON.parse(output) as { build: string; nodeEnv: string | null };
}

/** The same check without loadUiAsProduction, to show the check can tell the builds apart. */
function plainIn(env: NodeJS.ProcessEnv): string {
  const script = `const React = (await import('react')).default;
    process.stdout.write(Object.prototype.hasOwnProperty.call(React.createElement('div'), '_store') ? 'development' : 'production');`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env, encoding: 'utf8' });
}

describe('loadUiAsProduction', () => {
  it('loads the production build of React even under NODE_ENV=development, then restores NODE_ENV', () => {
    expect(plainIn({ ...process.env, NODE_ENV: 'development' })).toBe('development');
    expect(loadIn({ ...process.env, NODE_ENV: 'development' })).toEqual({ build: 'production', nodeEnv: 'development' });
  });

  it('leaves NODE_ENV unset when it was unset', () => {
    const env = { ...process.env };
    delete env.NODE_ENV;
    expect(loadIn(env)).toEqual({ build: 'production', nodeEnv: null });
  });
});

/**
 * Runs CLI commands (the bundle bin/ runs) one after another in one fresh process whose module loader refuses the UI libraries: a command
 * that loads them fails, and so does every command after it (the refusal is of the module, once loaded). One process
 * for all: each start under the loader hook cost seconds of CPU, and four of them ran past a minute at load 15.
 * Returns each command's exit code (as far as they got) and stderr.
 */
function withoutUi(commands: string[][]): { codes: number[]; stderr: string } {
  const hook = `export async function resolve(specifier, context, next) {
    const resolved = await next(specifier, context);
    if (/\\/node_modules\\/(ink|react|react-reconciler|yoga-layout)\\//.test(resolved.url)) throw new Error('the UI was loaded: ' + resolved.url);
    return resolved;
  }`;
  const script = `
    import { register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
    const { main } = await import('./dist/bundle/main.js');
    const codes = [];
    for (const args of ${JSON.stringify(commands)}) {
      codes.push(await main(['node', 'bluegreen', ...args]));
      process.stderr.write('codes: ' + JSON.stringify(codes) + '\\n');
    }`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env: { ...process.env, CI: 'true' }, encoding: 'utf8' });
  const said = [...result.stderr.matchAll(/^codes: (.*)$/gm)].at(-1)?.[1];
  return { codes: said === undefined ? [] : (JSON.parse(said) as number[]), stderr: result.stderr };
}

/** A one-stage plan on the in-process simulator (`extra`: more of its YAML), alone in a new folder. */
function oneStagePlan(name: string, extra = ''): { dir: string; plan: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'bluegreen-plan-'));
  const plan = path.join(dir, 'plan.yaml');
  writeFileSync(
    plan,
    `name: ${name}\nupstream: { simulate: { seed: 1 } }\nblue: { model: a }\ngreen: { model: b }\ntraffic: { rate: 50 }\nstages: [ { duration: 1s, green_weight: 0.5 } ]\nanalysis: { on_unjudged: promote }\n${extra}`,
  );
  return { dir, plan };
}

describe('commands that draw no dashboard', () => {
  it('never load the UI libraries (validate, status, a --plain rollout)', () => {
    const { dir, plan } = oneStagePlan('noui');
    const run = withoutUi([
      ['validate', 'rollouts/demo.yaml'],
      ['proxy', '--help'],
      ['rollout', plan, '--plain', '--state-dir', dir, '--seed', '1'],
      ['status', '--state-dir', dir],
    ]);
    expect(run.stderr).not.toContain('the UI was loaded');
    expect(run.codes).toEqual([0, 0, 0, 0]);
  });

  it("the CLI's bundle holds none of the UI libraries: they load from node_modules, when production-ui.ts imports them", () => {
    const held = [...bundleChunks().values()].flat();
    // The check can see what it looks for: packages are in the bundle.
    expect(held.some((file) => file.startsWith('node_modules/commander/'))).toBe(true);
    expect(held.filter((file) => /^node_modules\/(ink|react|react-reconciler|scheduler|yoga-layout)\//.test(file))).toEqual([]);
  });

  it('the check can fail: the loader refuses a command that loads the UI', () => {
    const loaded = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { register } from 'node:module';
         register('data:text/javascript,' + encodeURIComponent(${JSON.stringify('export async function resolve(s, c, n) { const r = await n(s, c); if (/\\/node_modules\\/ink\\//.test(r.url)) throw new Error("the UI was loaded"); return r; }')}));
         const { importDashboard } = await import('./dist/cli/production-ui.js');
         await importDashboard();`,
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(loaded.status).not.toBe(0);
    expect(loaded.stderr).toContain('the UI was loaded');
  });
});

/**
 * The modules `bin/bluegreen.js ARGS` loads, as the URLs a load hook saw (written to a file as each loads, so none
 * is lost at exit), relative to the package: "dist/cli/main.js", "node_modules/zod/index.js". The bin loads the CLI's
 * bundle: each chunk it loaded stands for the modules it holds (test/helpers/bundle.ts).
 */
function modulesLoadedBy(args: string[], env: NodeJS.ProcessEnv = {}): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'bluegreen-loads-'));
  const list = path.join(dir, 'loaded.txt');
  const hook = `import { appendFileSync } from 'node:fs';
    export async function load(url, context, next) { appendFileSync(process.env.BLUEGREEN_TEST_LOADED, url + '\\n'); return next(url, context); }`;
  const register = `import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));`;
  const run = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, 'bin/bluegreen.js', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, CI: 'true', BLUEGREEN_TEST_LOADED: list },
    encoding: 'utf8',
  });
  expect(run.stderr).not.toContain('internal error');
  const root = `${pathToFileURL(ROOT).href}/`;
  const files = readFileSync(list, 'utf8')
    .split('\n')
    .filter((url) => url.startsWith(root))
    .map((url) => url.slice(root.length));
  // The CLI ran from its bundle alone: none of tsc's files beside it.
  expect(files).toContain('dist/bundle/main.js');
  expect(files.filter((file) => file.startsWith('dist/') && !file.startsWith('dist/bundle/'))).toEqual([]);
  return modulesIn(files);
}

describe('each command loads what it uses (definitions/ register the commands, commands/ load when one runs)', () => {
  it('--version loads no command, no schema and no network library', () => {
    const loaded = modulesLoadedBy(['--version']);
    // The check can see what it looks for: the CLI's entry and commander are in the list.
    expect(loaded).toContain('dist/cli/main.js');
    expect(loaded.some((file) => file.startsWith('node_modules/commander/'))).toBe(true);
    expect(loaded.filter((file) => /^dist\/(cli\/commands|proxy|engine|sim|upstream|live|state|report|analysis)\//.test(file))).toEqual([]);
    expect(loaded.filter((file) => file.startsWith('node_modules/') && !file.startsWith('node_modules/commander/'))).toEqual([]);
  });

  it('validate loads the plan and its checks, not the proxy, the engine, the simulator, undici or HdrHistogram', () => {
    const loaded = modulesLoadedBy(['validate', 'rollouts/demo.yaml']);
    expect(loaded).toContain('dist/cli/commands/validate.js');
    expect(loaded.some((file) => file.startsWith('node_modules/yaml/'))).toBe(true);
    // HdrHistogram (50 ms of CPU at each start) came in through the latency range the figures' formatting reads.
    const unused = /^(dist\/(proxy\/(server|admin)|engine\/rollout|sim\/server|live\/controller)\.js|node_modules\/(undici|prom-client|hdr-histogram-js)\/)/;
    expect(loaded.filter((file) => unused.test(file))).toEqual([]);
  });

  it("a rollout without proxies loads no live module (no proxy controller, admin client, route reading or proxy recovery), nor the report's zod schema", () => {
    const { dir, plan } = oneStagePlan('not-live');
    const loaded = modulesLoadedBy(['rollout', plan, '--ci', '--state-dir', dir, '--seed', '1']);
    // The check can see what it looks for: the rollout ran, through its engine and the upstream client (client.js: the
    // bundle holds no module of re-exports alone, such as upstream/index.js).
    expect(loaded).toEqual(expect.arrayContaining(['dist/cli/run-rollout.js', 'dist/engine/rollout.js', 'dist/upstream/client.js']));
    const live =
      /^dist\/(live\/(controller|admin-client|fleet|routes|promoted|restore|recovery-step|recovery-targets)|cli\/live-start|proxy\/(admin|server|route|results-feed))\.js$/;
    expect(loaded.filter((file) => live.test(file))).toEqual([]);
    // It builds and writes its report without the schema (~25 ms of CPU at each start, through the report's index).
    expect(loaded).toContain('dist/report/outcome/build-report.js');
    expect(loaded.filter((file) => /^dist\/report\/outcome\/(report-schema|live-report-schema|index)\.js$/.test(file))).toEqual([]);
  });

  it('a live rollout that sends nothing upstream loads no upstream client and no simulator', () => {
    const { dir, plan } = oneStagePlan('live', 'proxy: { admin: { token_env: ADMIN_TOKEN } }\n');
    // No proxy to drive (no admin_urls, none in the state folder): it stops (exit 3) where it opens the proxies, past
    // where it would open an upstream.
    const loaded = modulesLoadedBy(['rollout', plan, '--ci', '--state-dir', dir], { ADMIN_TOKEN: 'loads-admin-token-0123456789' });
    expect(loaded).toEqual(expect.arrayContaining(['dist/cli/run-rollout.js', 'dist/live/controller.js']));
    const unused = /^dist\/(upstream\/(client|http|preflight)|sim\/server|cli\/(endpoints|preflight))\.js$/;
    expect(loaded.filter((file) => unused.test(file))).toEqual([]);
  });

  it('status on a folder without state loads no rollout machinery: no engine, upstream client, simulator, proxy or HdrHistogram', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bluegreen-loads-status-'));
    const loaded = modulesLoadedBy(['status', '--state-dir', dir]);
    expect(loaded).toContain('dist/cli/commands/status.js');
    const unused =
      /^(dist\/(proxy\/server|engine\/rollout|cli\/run-rollout|upstream\/client|sim\/server)\.js|node_modules\/(undici|prom-client|yaml|hdr-histogram-js)\/)/;
    expect(loaded.filter((file) => unused.test(file))).toEqual([]);
  });
});
