// The CLI loads React as its production build whatever NODE_ENV says, and leaves NODE_ENV as the user set it.
import { execFileSync } from 'node:child_process';
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
