// The CLI picks the dashboard only for a person at a terminal.
import { describe, expect, it } from 'vitest';
import { wantsDashboard } from '../../../src/cli/reporters.js';
import { testContext } from '../../helpers/cli.js';

const ctx = (tty: boolean, env: NodeJS.ProcessEnv = {}) => testContext({ cwd: '/tmp', tty, env });

describe('wantsDashboard', () => {
  it('uses the dashboard in a terminal', () => {
    expect(wantsDashboard(ctx(true, { TERM: 'xterm-256color' }), {})).toBe(true);
  });

  it('uses lines when stdout is not a terminal, with --plain, with --ci or $CI, and on a dumb terminal', () => {
    expect(wantsDashboard(ctx(false), {})).toBe(false);
    expect(wantsDashboard(ctx(true), { plain: true })).toBe(false);
    expect(wantsDashboard(ctx(true), { ci: true })).toBe(false);
    expect(wantsDashboard(ctx(true, { CI: 'true' }), {})).toBe(false);
    expect(wantsDashboard(ctx(true, { CI: 'false' }), {})).toBe(true);
    expect(wantsDashboard(ctx(true, { CI: '0' }), {})).toBe(true);
    // As Ink reads it: set, even to nothing, is CI (and Ink would then draw only the last frame).
    expect(wantsDashboard(ctx(true, { CI: '' }), {})).toBe(false);
    expect(wantsDashboard(ctx(true, { CONTINUOUS_INTEGRATION: 'true' }), {})).toBe(false);
    expect(wantsDashboard(ctx(true, { TERM: 'dumb' }), {})).toBe(false);
  });
});
