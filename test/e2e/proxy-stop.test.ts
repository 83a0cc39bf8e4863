// `bluegreen proxy` stopped the ways a terminal or a supervisor stops it: a hangup (the terminal closed), and
// `npx bluegreen proxy` whose npm is killed (npm passes the signal to its /bin/sh only, which dies and used to
// leave the proxy running, re-parented, on its port). Each ends the proxy cleanly: port closed, proxy.json gone.
// SIGTERM with a stream in flight drains: the stream ends whole, unless a second SIGTERM cuts it.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, exitOf, npmEnv, projectWithBluegreen, stderrOf } from './helpers.js';
import { isAlive, killAfterTest } from '../helpers/processes.js';
import { until } from '../helpers/until.js';

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

function projectWithPlan(plan = PLAN): string {
  const dir = projectWithBluegreen();
  writeFileSync(path.join(dir, 'plan.yaml'), plan);
  return dir;
}

/** Blue streams `tokens` tokens at 20 a second: a request that stays in flight while the test signals. */
const slowStreamPlan = (tokens: number) =>
  PLAN.replace('gpt-4o: {}', `gpt-4o: { ttft: 5ms, tokens_per_second: 20, output_tokens: { min: ${tokens}, max: ${tokens} } }`);

/** A streamed request through the proxy, once its first bytes arrived; `text()` reads the rest (or rejects if cut). */
async function streaming(url: string): Promise<{ text: () => Promise<string> }> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = decoder.decode((await reader.read()).value);
  return {
    text: async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return text;
        text += decoder.decode(value);
      }
    },
  };
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

/** A proxy serving a stream of `tokens` tokens, sent SIGTERM once the stream began, and saying it drains. */
async function drainingWithStream(tokens: number) {
  const dir = projectWithPlan(slowStreamPlan(tokens));
  const proxy = killAfterTest(spawn(process.execPath, [BIN, 'proxy', 'plan.yaml'], { cwd: dir, env: npmEnv(), stdio: ['ignore', 'ignore', 'pipe'] }));
  const stderr = stderrOf(proxy);
  const { pid, url } = await started(dir);
  const stream = await streaming(url);
  proxy.kill('SIGTERM');
  await stderr.waitFor('letting 1 request in flight finish');
  return { dir, proxy, stderr, pid, url, stream };
}

describe.skipIf(!LINUX)('stopping bluegreen proxy', () => {
  it('SIGHUP (its terminal closed) stops it like Ctrl-C: exit 129, proxy.json removed', async () => {
    const dir = projectWithPlan();
    const proxy = killAfterTest(spawn(process.execPath, [BIN, 'proxy', 'plan.yaml'], { cwd: dir, env: npmEnv(), stdio: ['ignore', 'ignore', 'pipe'] }));
    const { pid, url } = await started(dir);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    proxy.kill('SIGHUP');
    expect(await exitOf(proxy)).toEqual({ code: 129, signal: null });
    await stoppedCleanly(dir, pid, url);
  });

  it('SIGTERM to `npm exec` (npx) stops the proxy too, saying why, instead of leaving it on its port', async () => {
    const dir = projectWithPlan();
    const npm = killAfterTest(
      spawn('npm', ['exec', '--', 'bluegreen', 'proxy', 'plan.yaml'], { cwd: dir, env: npmEnv(), stdio: ['ignore', 'ignore', 'pipe'] }),
    );
    const stderr = stderrOf(npm);
    const { pid, url } = await started(dir);
    npm.kill('SIGTERM');
    await exitOf(npm);
    await stoppedCleanly(dir, pid, url);
    expect(stderr.text()).toMatch(/bluegreen proxy: stopping: its launcher \S+ \(pid \d+\) exiting/);
  });

  it('SIGHUP to `npm exec` (npm dies of it, its shell lives on) stops the proxy, saying it was a hangup', async () => {
    const dir = projectWithPlan();
    const npm = killAfterTest(
      spawn('npm', ['exec', '--', 'bluegreen', 'proxy', 'plan.yaml'], { cwd: dir, env: npmEnv(), stdio: ['ignore', 'ignore', 'pipe'] }),
    );
    const stderr = stderrOf(npm);
    const { pid, url } = await started(dir);
    npm.kill('SIGHUP');
    expect((await exitOf(npm)).signal).toBe('SIGHUP');
    await stoppedCleanly(dir, pid, url);
    expect(stderr.text()).toMatch(/bluegreen proxy: stopping: its launcher npm \(pid \d+\) dying of a signal it does not pass on \(a hangup\)/);
  });

  it('SIGTERM lets a stream in flight end whole (proxy.limits.drain_timeout), then exits 143', async () => {
    const { dir, proxy, stderr, pid, url, stream } = await drainingWithStream(20);
    // The port is closed at once: a new proxy could take it.
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    expect(await stream.text()).toContain('data: [DONE]');
    expect(await exitOf(proxy)).toEqual({ code: 143, signal: null });
    await stoppedCleanly(dir, pid, url);
    expect(stderr.text()).not.toContain('cutting');
  });

  it('a second SIGTERM cuts what is still in flight at once', async () => {
    const { dir, proxy, stderr, pid, url, stream } = await drainingWithStream(2000);
    proxy.kill('SIGTERM');
    expect(await exitOf(proxy)).toEqual({ code: 143, signal: null });
    await expect(stream.text()).rejects.toThrow();
    expect(stderr.text()).toContain('stopping: cutting 1 request still in flight');
    await stoppedCleanly(dir, pid, url);
  });
});
