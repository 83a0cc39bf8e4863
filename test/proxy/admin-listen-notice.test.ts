// The admin API's startup line, like the proxy's own: on every address it names THIS_HOST, not 0.0.0.0 (which no
// other machine reaches), and off loopback it says that the token then crosses the network over plain HTTP.
// Found by hostile10: `--admin-listen 0.0.0.0:PORT` said "admin API on http://0.0.0.0:PORT" and nothing more.
import { createServer } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runProxy as runProxyCommand } from '../../src/cli/commands/proxy.js';
import { UsageError } from '../../src/core/exit.js';
import { testContext } from '../helpers/cli.js';
import { listenForTest } from '../helpers/loopback.js';
import { tempDir, writePlan } from '../helpers/plans.js';
import { freePort } from '../live/helpers.js';
import { runProxy, simPlan } from './helpers.js';

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

/** Starts the proxy command on these addresses; what it throws before serving (it must not serve). */
async function startFailure(listen: string, adminListen: string, dir = tempDir(), stateDir = dir): Promise<unknown> {
  const file = writePlan(simPlan({ proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), dir);
  const stop = new AbortController();
  return runProxyCommand(file, { listen, adminListen, stateDir }, testContext({ cwd: dir, env: { ADMIN_TOKEN } }), stop.signal, () => stop.abort(130)).then(
    () => 'served',
    (error: unknown) => error,
  );
}

// Found by hostile13: an --admin-listen that could not bind (on the proxy's own port) said "pick another address with --listen".
describe('bluegreen proxy, an address it cannot listen on', () => {
  it("--admin-listen on the proxy's own port names --admin-listen", async () => {
    const port = await freePort();
    const error = await startFailure(`127.0.0.1:${port}`, `127.0.0.1:${port}`);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(
      `the admin API's 127.0.0.1:${port} clashes with the proxy's own address (--listen 127.0.0.1:${port}); give it a port of its own with --admin-listen`,
    );
  });

  it('--admin-listen on a port another program holds names --admin-listen; --listen on one names --listen', async () => {
    const held = await listenForTest(createServer());
    const admin = await startFailure('127.0.0.1:0', held);
    expect((admin as Error).message).toBe(`${held} is already in use; pick another address with --admin-listen`);
    const own = await startFailure(held, '127.0.0.1:0');
    expect((own as Error).message).toBe(`${held} is already in use; pick another address with --listen`);
  });
});

// fixb33: a port held by another bluegreen proxy was said as by any program. The proxy it finds recorded in its own
// state folder or the default one (proxy.json) is named by its pid and folder; one recorded elsewhere is not known.
describe('bluegreen proxy on a port another bluegreen proxy holds', () => {
  it('names its pid and state folder when the default folder records it', async () => {
    const dir = tempDir();
    const recorded = path.join(dir, '.bluegreen');
    const first = await runProxy(simPlan({ proxy: '{}' }), { stateDir: recorded });
    const held = new URL(first.proxy.url).host;
    const named = await startFailure(held, '127.0.0.1:0', dir, path.join(dir, 'other-folder'));
    expect((named as Error).message).toBe(
      `${held} is already in use by another bluegreen proxy (pid ${process.pid}, state folder ${recorded}); pick another address with --listen`,
    );
    const elsewhere = await runProxy(simPlan({ proxy: '{}' }), { stateDir: tempDir() });
    const heldElsewhere = new URL(elsewhere.proxy.url).host;
    const unnamed = await startFailure(heldElsewhere, '127.0.0.1:0');
    expect((unnamed as Error).message).toBe(`${heldElsewhere} is already in use; pick another address with --listen`);
  });
});
