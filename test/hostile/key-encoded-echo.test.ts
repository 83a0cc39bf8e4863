// An upstream that echoes the key encoded (a relay's debug text: the request's headers in hex, the key in base64),
// and a hook allowed the key (hooks.pass_env) printing it so: found by hostile24, both reached the terminal,
// events.jsonl and state.json whole, where the proxy already kept them from its application (header-keys.ts). The
// proxy's results feed passed the base64 one on to a live rollout, which does not know the key, in a failure's reason.
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { listenForTest } from '../helpers/loopback.js';
import { runProxy, scriptedPlan, scriptedServer, UPSTREAM_KEY } from '../proxy/helpers.js';

const KEY = 'sk-hostile24-Echoed0123456789abcdefXYZ';
const hex = (text: string) => Buffer.from(text, 'utf8').toString('hex');
const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

let dir: string;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'bluegreen-hostile-echo-')));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Blue answers; green fails, its error quoting the Authorization header in hex and the key in base64. */
async function echoingUpstream(): Promise<string> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/v1/models') return void res.end(JSON.stringify({ object: 'list', data: [{ id: 'a' }, { id: 'b' }] }));
      const auth = req.headers.authorization ?? '';
      const model = (JSON.parse(body) as { model: string }).model;
      if (model === 'b') {
        res.writeHead(500).end(JSON.stringify({ error: { message: `relay debug: ${hex(auth)} ${base64(auth.replace(/^Bearer /, ''))}` } }));
        return;
      }
      const message = { role: 'assistant', content: 'an answer long enough' };
      res.end(JSON.stringify({ id: 'x', object: 'chat.completion', model, choices: [{ index: 0, message, finish_reason: 'stop' }] }));
    });
  });
  return listenForTest(server);
}

it("an upstream's or a hook's key in hex or base64 reaches neither output nor the state folder", async () => {
  const upstream = await echoingUpstream();
  writeFileSync(path.join(dir, 'prompts.txt'), 'hello\n');
  writeFileSync(
    path.join(dir, 'plan.yaml'),
    `name: echo
upstream: { api: openai, base_url: "http://${upstream}/v1", api_key_env: ECHO_KEY, retries: { max: 0 } }
blue: { model: a }
green: { model: b }
traffic: { rate: 20, synthetic: { prompts: prompts.txt } }
stages: [ { duration: 2s, green_weight: 0.5 } ]
analysis: { interval: 200ms, thresholds: { error_rate: 0.05 }, min_requests: 3 }
hooks:
  pass_env: [ECHO_KEY]
  on_rollback: { exec: 'printf "%s" "$ECHO_KEY" | base64; printf "%s\\n" "$ECHO_KEY" | od -An -tx1 | tr -d " \\n"; exit 1' }
`,
  );
  const run = await runCli(['rollout', 'plan.yaml', '--plain', '--state-dir', 'st'], { cwd: dir, env: { ECHO_KEY: KEY } });
  expect(run.code).toBe(10);
  const written = [run.stdout, run.stderr, ...['events.jsonl', 'state.json'].map((file) => readFileSync(path.join(dir, 'st', file), 'utf8'))].join('\n');
  // Green's failure was quoted (so the echo was there to keep out), and the hook ran.
  expect(written).toContain('relay debug: ');
  expect(written).toContain('on_rollback hook');
  for (const spelling of [hex(`Bearer ${KEY}`).slice(14), base64(KEY), hex(KEY)]) {
    // Any 12 characters of the encoded key's start or end would give it away, as the redactor counts them.
    expect(written).not.toContain(spelling.slice(0, 12));
    expect(written).not.toContain(spelling.slice(-12));
  }
  expect(written).not.toContain(KEY.slice(0, 12));
});

it("the proxy's results feed gives a rollout no upstream key in base64", async () => {
  const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
  const scripted = await scriptedServer((req, res) => {
    const key = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: `relay debug: key ${base64(key)}`, type: 'server_error' } }));
  });
  const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), { env: { UPSTREAM_KEY, ADMIN_TOKEN } });
  const body = JSON.stringify({ model: 'blue-model', messages: [{ role: 'user', content: 'hi' }] });
  await fetch(`${running.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((answer) => answer.text());
  const feed = await fetch(`${running.proxy.adminUrl as string}/admin/results?after=0`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const text = await feed.text();
  expect(text).toContain('relay debug: key [redacted]');
  expect(text).not.toContain(base64(UPSTREAM_KEY).slice(0, 12));
});
