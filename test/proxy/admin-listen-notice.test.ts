// The admin API's startup line, like the proxy's own: on every address it names THIS_HOST, not 0.0.0.0 (which no
// other machine reaches), and off loopback it says that the token then crosses the network over plain HTTP.
// Found by hostile10: `--admin-listen 0.0.0.0:PORT` said "admin API on http://0.0.0.0:PORT" and nothing more.
import { describe, expect, it } from 'vitest';
import { runProxy as runProxyCommand } from '../../src/cli/commands/proxy.js';
import { testContext } from '../helpers/cli.js';
import { tempDir, writePlan } from '../helpers/plans.js';
import { simPlan } from './helpers.js';

const ADMIN_TOKEN = 'admin-token-0123456789';

async function adminLine(adminListen: string): Promise<string> {
  const dir = tempDir();
  const file = writePlan(simPlan({ proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), dir);
  const ctx = testContext({ cwd: dir, env: { ADMIN_TOKEN } });
  const stop = new AbortController();
  const code = await runProxyCommand(file, { listen: '127.0.0.1:0', adminListen, stateDir: dir }, ctx, stop.signal, () => stop.abort(130));
  expect(code).toBe(130);
  return (
    ctx
      .err()
      .split('\n')
      .find((line) => line.includes('admin API on')) ?? ''
  );
}

describe('bluegreen proxy, the admin API line', () => {
  it('on loopback: its address, no warning', async () => {
    const line = await adminLine('127.0.0.1:0');
    expect(line).toMatch(/^bluegreen proxy: admin API on http:\/\/127\.0\.0\.1:\d+ \(token from ADMIN_TOKEN\)$/);
  });

  it('on every address: THIS_HOST, and that plain HTTP carries the token', async () => {
    const line = await adminLine('0.0.0.0:0');
    expect(line).toMatch(/admin API on http:\/\/THIS_HOST:\d+ \(token from ADMIN_TOKEN\); it is off loopback, and plain HTTP carries the token/);
    expect(line).not.toContain(ADMIN_TOKEN.slice(0, 12));
  });
});
