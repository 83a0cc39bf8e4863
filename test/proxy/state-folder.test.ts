// A state folder the proxy cannot write (a full disk, a path through a file, no permission) is the operator's to
// fix: exit 2 naming the file and why, as a rollout does for its own state folder, never "internal error". One
// running proxy per folder: a rollout on it finds one through proxy.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir, writePlan } from '../helpers/plans.js';
import { MAX_HEALTHZ_BYTES, readProxyInfo } from '../../src/proxy/discovery.js';
import { bootId, readProcStat } from '../../src/core/proc-stat.js';
import { openAiCompletion, runProxy, scriptedPlan, scriptedServer, simPlan, UPSTREAM_KEY } from './helpers.js';

describe('bluegreen proxy on a state folder it cannot write', () => {
  it('exits 2 naming the file and why, and does not serve', async () => {
    const upstream = await scriptedServer((req, res, body) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.method === 'GET') return void res.end(JSON.stringify({ object: 'list', data: [{ id: 'blue-model' }, { id: 'green-model' }] }));
      res.end(openAiCompletion((JSON.parse(body) as { model: string }).model, 'an answer'));
    });
    const dir = tempDir();
    const file = writePlan(scriptedPlan(upstream.url, { proxy: '{}' }), dir);
    // The folder asked for lies under a file: it can be neither created nor written.
    writeFileSync(path.join(dir, 'not-a-folder'), 'x');
    const stateDir = path.join(dir, 'not-a-folder', 'state');
    const run = await runCli(['proxy', file, '--listen', '127.0.0.1:0', '--state-dir', stateDir], { cwd: dir, env: { UPSTREAM_KEY } });
    expect(run.stderr).not.toContain('internal error');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`cannot write ${path.join(stateDir, 'proxy.json')}: part of the path`);
    expect(run.stderr).toContain('--state-dir');
    expect(run.stderr).not.toContain('listening on');
  });
});

describe('a second proxy on the state folder of a running one', () => {
  // The other proxy: another live process (this test's parent) recorded in proxy.json, its address served or not.
  function recordOther(stateDir: string, url: string, identity: { pidStart?: string; bootId?: string } = {}): void {
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(path.join(stateDir, 'proxy.json'), JSON.stringify({ pid: process.ppid, ...identity, url, startedAt: 1 }));
  }
  const plan = () => simPlan({ proxy: '{}' });

  it('is refused (exit 2) while the other still answers at its address, and the other keeps proxy.json', async () => {
    // What a bluegreen proxy's /healthz answers.
    const other = await scriptedServer((_req, res) => res.end('{"ok":true,"route":{"greenWeight":0,"mirror":0},"inFlight":0}'));
    const stateDir = tempDir();
    const url = other.url.replace(/\/v1$/, '');
    recordOther(stateDir, url);
    const started = runProxy(plan(), { stateDir });
    await expect(started).rejects.toThrow(`another bluegreen proxy (pid ${process.ppid}, ${url}) runs on the state folder ${stateDir}`);
    await expect(started).rejects.toMatchObject({ exitCode: 2 });
    expect(readProxyInfo(stateDir)?.url).toBe(url);
  });

  // Before (session 21): proxy.json kept a pid alone. A pid given to another process since (a reboot, a container's
  // restart) read as the proxy's, so with another proxy at its old address the start was refused for good.
  it('starts when the recorded pid now names a process that started at another time, and records its own start time', async () => {
    const other = await scriptedServer((_req, res) => res.end('{"ok":true,"route":{"greenWeight":0,"mirror":0},"inFlight":0}'));
    const stateDir = tempDir();
    const parentStart = readProcStat(process.ppid)?.startTime as string;
    recordOther(stateDir, other.url.replace(/\/v1$/, ''), { pidStart: `${Number(parentStart) + 1}` });
    const running = await runProxy(plan(), { stateDir });
    expect(readProxyInfo(stateDir)).toMatchObject({
      pid: process.pid,
      pidStart: readProcStat(process.pid)?.startTime,
      bootId: bootId(),
      url: running.proxy.url,
    });
  });

  // Before (session 22): start times count from boot, so after a reboot the recorded pid and start time could both
  // name a process of the new boot. The boot recorded with them tells them apart.
  it('starts when the recorded pid and start time are of another boot', async () => {
    const other = await scriptedServer((_req, res) => res.end('{"ok":true,"route":{"greenWeight":0,"mirror":0},"inFlight":0}'));
    const stateDir = tempDir();
    recordOther(stateDir, other.url.replace(/\/v1$/, ''), { pidStart: readProcStat(process.ppid)?.startTime as string, bootId: 'another-boot' });
    const running = await runProxy(plan(), { stateDir });
    expect(readProxyInfo(stateDir)).toMatchObject({ pid: process.pid, url: running.proxy.url });
  });

  it('starts when the recorded proxy no longer answers (killed with -9, or draining with its port closed)', async () => {
    const gone = await scriptedServer((_req, res) => res.end());
    await gone.close();
    const stateDir = tempDir();
    recordOther(stateDir, gone.url.replace(/\/v1$/, ''));
    const running = await runProxy(plan(), { stateDir });
    expect(readProxyInfo(stateDir)).toMatchObject({ pid: process.pid, url: running.proxy.url });
  });

  it('starts when the server at the recorded port answers /healthz with more than a proxy ever does (read no further)', async () => {
    // A proxy's /healthz, padded past the cap: read whole, it named a route and refused the start.
    const padded = `{"ok":true,"route":{"greenWeight":0,"mirror":0},"inFlight":0,"pad":"${'x'.repeat(MAX_HEALTHZ_BYTES)}"}`;
    const server = await scriptedServer((_req, res) => res.end(padded));
    const stateDir = tempDir();
    recordOther(stateDir, server.url.replace(/\/v1$/, ''));
    const running = await runProxy(plan(), { stateDir });
    expect(readProxyInfo(stateDir)?.url).toBe(running.proxy.url);
  });

  it('starts when another server, not a proxy, has the recorded port since', async () => {
    const server = await scriptedServer((_req, res) => res.end('<html>not a proxy</html>'));
    const stateDir = tempDir();
    recordOther(stateDir, server.url.replace(/\/v1$/, ''));
    const running = await runProxy(plan(), { stateDir });
    expect(readProxyInfo(stateDir)?.url).toBe(running.proxy.url);
  });
});

// fixb33: the check above reads proxy.json before listening, and proxy.json is written after: two proxies started
// together on one folder both passed it. The folder is claimed first, in one step (proxy.lock, created whole or not
// at all), naming its holder: a second is refused while that process lives.
describe('a proxy claiming its state folder', () => {
  const plan = () => simPlan({ proxy: '{}' });
  const claimBy = (stateDir: string, pid: number) => {
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(path.join(stateDir, 'proxy.lock'), JSON.stringify({ pid, claim: 'another' }));
  };

  it('is refused (exit 2) while another live process holds the claim, before proxy.json is written', async () => {
    const stateDir = tempDir();
    claimBy(stateDir, process.ppid);
    const started = runProxy(plan(), { stateDir });
    await expect(started).rejects.toThrow(`another bluegreen proxy (pid ${process.ppid}) is starting or runs on the state folder ${stateDir} (proxy.lock)`);
    await expect(started).rejects.toMatchObject({ exitCode: 2 });
    expect(existsSync(path.join(stateDir, 'proxy.json'))).toBe(false);
    expect(JSON.parse(readFileSync(path.join(stateDir, 'proxy.lock'), 'utf8'))).toEqual({ pid: process.ppid, claim: 'another' });
  });

  it('takes over a claim whose process is dead, holds it while it runs and lets it go when it stops', async () => {
    const stateDir = tempDir();
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    claimBy(stateDir, dead);
    const running = await runProxy(plan(), { stateDir });
    const held = JSON.parse(readFileSync(path.join(stateDir, 'proxy.lock'), 'utf8')) as { pid: number; claim: string };
    expect(held.pid).toBe(process.pid);
    expect(held.claim).not.toBe('another');
    await running.close();
    expect(existsSync(path.join(stateDir, 'proxy.lock'))).toBe(false);
    expect(readdirSync(stateDir).filter((name) => name.startsWith('proxy.lock'))).toEqual([]);
  });
});
