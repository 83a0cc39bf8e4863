// The CLI loads React as its production build whatever NODE_ENV says, and leaves NODE_ENV as the user set it.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

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
 * Runs the CLI in a fresh process whose module loader refuses the UI libraries: a command that loads them fails.
 * Returns the exit code and stderr.
 */
function withoutUi(args: string[]): { code: number; stderr: string } {
  const hook = `export async function resolve(specifier, context, next) {
    const resolved = await next(specifier, context);
    if (/\\/node_modules\\/(ink|react|react-reconciler|yoga-layout)\\//.test(resolved.url)) throw new Error('the UI was loaded: ' + resolved.url);
    return resolved;
  }`;
  const script = `
    import { register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
    const { main } = await import('./dist/cli/main.js');
    process.exitCode = await main(['node', 'bluegreen', ...${JSON.stringify(args)}]);`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env: { ...process.env, CI: 'true' }, encoding: 'utf8' });
  return { code: result.status ?? -1, stderr: result.stderr };
}

describe('commands that draw no dashboard', () => {
  it('never load the UI libraries (validate, status, a --plain rollout)', () => {
    expect(withoutUi(['validate', 'rollouts/demo.yaml']).code).toBe(0);
    expect(withoutUi(['proxy', '--help']).code).toBe(0);
    const dir = mkdtempSync(path.join(tmpdir(), 'bluegreen-noui-'));
    const plan = path.join(dir, 'plan.yaml');
    writeFileSync(
      plan,
      'name: noui\nupstream: { simulate: { seed: 1 } }\nblue: { model: a }\ngreen: { model: b }\ntraffic: { rate: 50 }\nstages: [ { duration: 1s, green_weight: 0.5 } ]\nanalysis: { on_unjudged: promote }\n',
    );
    const run = withoutUi(['rollout', plan, '--plain', '--state-dir', dir, '--seed', '1']);
    expect(run.stderr).not.toContain('the UI was loaded');
    expect(run.code).toBe(0);
    expect(withoutUi(['status', '--state-dir', dir]).code).toBe(0);
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
