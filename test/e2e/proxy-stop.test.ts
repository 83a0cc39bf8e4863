// `bluegreen proxy` stopped the ways a terminal or a supervisor stops it: a hangup (the terminal closed), and
// `npx bluegreen proxy` whose npm is killed (npm passes the signal to its /bin/sh only, which dies and used to
// leave the proxy running, re-parented, on its port). Each ends the proxy cleanly: port closed, proxy.json gone.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, exitOf, npmEnv, projectWithBluegreen, stderrOf, until } from './helpers.js';
import { isAlive } from '../helpers/processes.js';

const LINUX = process.platform === 'linux';

const PLAN = `
name: proxy-stop
upstream:
  simulate: { models: { gpt-4o: {}, gpt-4.1: {} } }
blue: { model: gpt-4o }
green: { model: gpt-4.1 }
traffic: { rate: 1 }
stages:
  - { duration: 1m, green_weight: 0.5 }
proxy: { listen: 127.0.0.1:0 }
`;

function projectWithPlan(): string {
  const dir = projectWithBluegreen();
  writeFileSync(path.join(dir, 'plan.yaml'), PLAN);
  return dir;
}

const infoFile = (dir: string) => path.join(dir, '.bluegreen', 'proxy.json');

/** The running proxy's pid and URL, once it has written proxy.json. */
async function started(dir: string): Promise<{ pid: number; url: string }> {
  await until(() => existsSync(infoFile(dir)), 'the proxy to start');
  return JSON.parse(readFileSync(infoFile(dir), 'utf8')) as { pid: number; url: string };
}

async function stoppedCleanly(dir: string, pid: number, url: string): Promise<void> {
  await until(() => !isAlive(pid), `the proxy (pid ${pid}) to exit`);
  expect(existsSync(infoFile(dir))).toBe(false);
  await expect(fetch(`${url}/healthz`)).rejects.toThrow();
}

describe.skipIf(!LINUX)('stopping bluegreen proxy', () => {
  it('SIGHUP (its terminal closed) stops it like Ctrl-C: exit 129, proxy.json removed', async () => {
    const dir = projectWithPlan();
    const proxy: ChildProcess = spawn(process.execPath, [BIN, 'proxy', 'plan.yaml'], { cwd: dir, env: npmEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    const { pid, url } = await started(dir);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    proxy.kill('SIGHUP');
    expect(await exitOf(proxy)).toEqual({ code: 129, signal: null });
    await stoppedCleanly(dir, pid, url);
  });

  it('SIGTERM to `npm exec` (npx) stops the proxy too, saying why, instead of leaving it on its port', async () => {
    const dir = projectWithPlan();
    const npm = spawn('npm', ['exec', '--', 'bluegreen', 'proxy', 'plan.yaml'], { cwd: dir, env: npmEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    const stderr = stderrOf(npm);
    const { pid, url } = await started(dir);
    npm.kill('SIGTERM');
    await exitOf(npm);
    await stoppedCleanly(dir, pid, url);
    expect(stderr.text()).toMatch(/bluegreen proxy: stopping: its launcher \S+ \(pid \d+\) exiting/);
  });
});
