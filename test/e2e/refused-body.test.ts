// A request refused while its body is still coming (413 too large, 401 without a key) reaches the application
// as that answer, not as a connection error. A proxy that closed at once, with the body still arriving, reset
// the client mid-write: the openai SDK then saw "Connection error." (and retried by default) in most tries.
// The proxy runs in its own process, as in production: in one process with the client the race does not show.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { describe, expect, it, onTestFinished } from 'vitest';
import { BIN, exitOf, npmEnv, projectWithBluegreen, stderrOf } from './helpers.js';
import { until } from '../helpers/until.js';

const plan = (proxy: string) => `
name: refused-body
upstream: { simulate: { models: { gpt-4o: {}, gpt-4.1: {} } } }
blue: { model: gpt-4o }
green: { model: gpt-4.1 }
traffic: { rate: 1 }
stages: [{ duration: 1m, green_weight: 0.5 }]
proxy: ${proxy}
`;

// Several times the kernel's socket buffers on loopback: the client is still writing when the answer comes.
const bigAsk = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'x'.repeat(6 * 1024 * 1024) }] };

async function proxyOn(proxyBlock: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const dir = projectWithBluegreen();
  writeFileSync(path.join(dir, 'plan.yaml'), plan(proxyBlock));
  const child = spawn(process.execPath, [BIN, 'proxy', 'plan.yaml'], { cwd: dir, env: { ...npmEnv(), ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  onTestFinished(async () => {
    child.kill('SIGKILL');
    await exitOf(child);
  });
  const stderr = stderrOf(child);
  const info = path.join(dir, '.bluegreen', 'proxy.json');
  // A proxy that exits instead of starting fails the test at once, saying why, not after until()'s minute.
  await until(() => existsSync(info) || child.exitCode !== null || child.signalCode !== null, 'the proxy to start').catch((error: unknown) => {
    throw new Error(`${String(error)}; its stderr: ${stderr.text()}`, { cause: error });
  });
  if (!existsSync(info)) {
    const { code, signal } = await exitOf(child);
    throw new Error(`the proxy exited (${code ?? signal}) before it started: ${stderr.text()}`);
  }
  return (JSON.parse(readFileSync(info, 'utf8')) as { url: string }).url;
}

async function answersTo(url: string, apiKey: string, times: number, ask = bigAsk): Promise<unknown[]> {
  const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0 });
  const seen: unknown[] = [];
  for (let i = 0; i < times; i++) {
    const error = await openai.chat.completions.create(ask).catch((e: unknown) => e);
    seen.push(error instanceof OpenAI.APIError && error.status !== undefined ? error.status : String(error));
  }
  return seen;
}

describe('a request refused while its body is still arriving', () => {
  it('reaches the openai SDK as 413 every time, not as a connection error', async () => {
    const url = await proxyOn('{ listen: 127.0.0.1:0, limits: { max_body_bytes: 2097152 } }');
    expect(await answersTo(url, 'unused', 6)).toEqual([413, 413, 413, 413, 413, 413]);
  });

  it('reaches the openai SDK as 413 every time when its content-length is over four times the limit', async () => {
    // Answered with connection: close at once; Node's own close of such a connection (destroySoon) reset it while
    // the body still came: "Connection error." in 6 of 10 tries before the proxy lingered there too.
    const url = await proxyOn('{ listen: 127.0.0.1:0, limits: { max_body_bytes: 1048576 } }');
    expect(await answersTo(url, 'unused', 6)).toEqual([413, 413, 413, 413, 413, 413]);
  });

  it('reaches the openai SDK as 401 every time when its key is wrong', async () => {
    const url = await proxyOn('{ listen: 127.0.0.1:0, client_keys_env: APP_KEYS }', { APP_KEYS: 'app-key-one-0123456789' });
    expect(await answersTo(url, 'wrong-key', 6)).toEqual([401, 401, 401, 401, 401, 401]);
  });

  it('closes a connection whose body goes on past four times the limit, after its 413', async () => {
    const url = new URL(await proxyOn('{ listen: 127.0.0.1:0, limits: { max_body_bytes: 1048576 } }'));
    const socket = connect(Number(url.port), url.hostname);
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    // The proxy half-closes after its 413 (FIN, read as 'end'); a reset instead could lose the 413 unread.
    let finished = false;
    socket.once('end', () => (finished = true));
    socket.on('error', () => undefined);
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n`);
    const chunk = `10000\r\n${'x'.repeat(0x10000)}\r\n`;
    let sent = 0;
    let open = true;
    void closed.then(() => (open = false));
    // 64 MiB at most: far past 1 MiB read + 4 MiB discarded + the sockets' buffers.
    while (open && sent < 64 * 1024 * 1024) {
      sent += 0x10000;
      if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve).once('close', resolve));
    }
    socket.destroy();
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(finished).toBe(true);
    expect(sent).toBeLessThan(32 * 1024 * 1024);
  });

  it('answers a body declared far too large with connection: close, without waiting for it', async () => {
    const url = new URL(await proxyOn('{ listen: 127.0.0.1:0, limits: { max_body_bytes: 1048576 } }'));
    const socket = connect(Number(url.port), url.hostname);
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\ncontent-length: ${6 * 1024 * 1024}\r\n\r\n`);
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer.toLowerCase()).toContain('connection: close');
  });
});
