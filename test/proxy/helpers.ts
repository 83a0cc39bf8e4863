// Starts a real proxy in-process in front of real loopback upstreams (the simulator or a scripted server).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { openEndpoints, type Endpoints } from '../../src/cli/endpoints.js';
import { ARMS, type ArmName, type Plan } from '../../src/plan/plan.js';
import { proxySettings } from '../../src/proxy/config.js';
import { proxyBlockOf } from '../../src/plan/proxy-schema.js';
import { startProxy, type ProxyHandle } from '../../src/proxy/server.js';
import type { ArmUpstream } from '../../src/proxy/targets.js';
import { readApiKey } from '../../src/upstream/api-key.js';
import { closeAfterTest } from '../helpers/close-after-test.js';
import { closeServer, listenForTest } from '../helpers/loopback.js';
import { planFromYaml, tempDir } from '../helpers/plans.js';

export interface Running {
  plan: Plan;
  proxy: ProxyHandle;
  endpoints: Endpoints;
  /** OpenAI base URL through the proxy. */
  baseUrl: string;
  logs: string[];
  close(): Promise<void>;
}

/** Starts the proxy from plan YAML; it is closed when the test that started it ends (or earlier by `close()`). */
export async function runProxy(
  yaml: string,
  options: {
    env?: NodeJS.ProcessEnv;
    random?: () => number;
    stateDir?: string;
    now?: () => number;
    steadyNow?: () => number;
    listen?: string;
    adminListen?: string;
  } = {},
): Promise<Running> {
  const dir = tempDir('bluegreen-proxy-');
  const env = options.env ?? {};
  const plan = planFromYaml(yaml, dir);
  const settings = proxySettings(plan, proxyBlockOf(plan), {
    listen: options.listen ?? '127.0.0.1:0',
    adminListen: plan.proxy?.admin ? (options.adminListen ?? '127.0.0.1:0') : undefined,
    env,
    cwd: dir,
  });
  const endpoints = await openEndpoints(plan);
  const upstreams = {} as Record<ArmName, ArmUpstream>;
  for (const arm of ARMS) {
    const { model, upstream } = endpoints.arms[arm];
    const apiKey = upstream.apiKeyEnv ? readApiKey(upstream.apiKeyEnv, env, dir) : undefined;
    upstreams[arm] = { arm, model, upstream, ...(apiKey !== undefined && { apiKey }) };
  }
  const logs: string[] = [];
  const proxy = await startProxy({
    plan,
    settings,
    upstreams,
    env,
    stateDir: options.stateDir,
    random: options.random,
    now: options.now,
    steadyNow: options.steadyNow,
    log: (m) => logs.push(m),
  });
  return closeAfterTest({
    plan,
    proxy,
    endpoints,
    baseUrl: `${proxy.url}/v1`,
    logs,
    close: async () => {
      await proxy.close();
      await endpoints.close();
    },
  });
}

/** A route sending `greenWeight` of split traffic to green, under a lease that outlives the test. */
export function setRoute(proxy: ProxyHandle, greenWeight: number, mirror = 0): void {
  proxy.route.set({ greenWeight, mirror, leaseExpiresAt: Date.now() + 3_600_000, reason: 'test' });
}

/** A simulated upstream plan: blue gpt-4o, green gpt-4.1, with extra green profile and proxy YAML. */
export function simPlan(options: { green?: string; blue?: string; proxy?: string; api?: 'openai' | 'anthropic'; quality?: string } = {}): string {
  const api = options.api ?? 'openai';
  const blueModel = api === 'anthropic' ? 'claude-blue' : 'gpt-4o';
  const greenModel = api === 'anthropic' ? 'claude-green' : 'gpt-4.1';
  return `
name: proxy-test
upstream:
  api: ${api}
  simulate:
    seed: 3
    models:
      ${blueModel}: { latency: { p50: 2ms, p95: 5ms }, ttft: 1ms, tokens_per_second: 5000, output_tokens: { min: 5, max: 20 }${options.blue ? `, ${options.blue}` : ''} }
      ${greenModel}: { latency: { p50: 2ms, p95: 5ms }, ttft: 1ms, tokens_per_second: 5000, output_tokens: { min: 5, max: 20 }${options.green ? `, ${options.green}` : ''} }
      other-model: { latency: { p50: 2ms, p95: 5ms } }
  timeout: { connect: 2s, request: 5s }
blue:  { model: ${blueModel}, price: { input_per_mtok: 1, output_per_mtok: 2 } }
green: { model: ${greenModel}, price: { input_per_mtok: 1, output_per_mtok: 2 } }
traffic: { rate: 1 }
stages:
  - { duration: 1m, green_weight: 0.5 }
${options.quality ? `analysis: { quality: ${options.quality} }\n` : ''}${options.proxy ? `proxy: ${options.proxy}\n` : ''}`;
}

export interface Scripted {
  url: string;
  /** Requests seen, with their headers and body. */
  seen: { path: string; headers: IncomingMessage['headers']; body: string }[];
  close(): Promise<void>;
}

/** A loopback upstream whose answers the test writes; closed when the test that started it ends. */
export async function scriptedServer(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<Scripted> {
  const seen: Scripted['seen'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ path: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  return { url: `http://${await listenForTest(server)}/v1`, seen, close: () => closeServer(server) };
}

/**
 * A plan (name two-upstreams, hashed by the sticky split) whose blue and green are separate OpenAI upstreams, so each
 * arm's stored responses are its own; `proxy` is the proxy block's line, if any.
 */
export function twoUpstreamsPlan(blueUrl: string, greenUrl: string, options: { requestTimeout?: string; proxy?: string } = {}): string {
  return `
name: two-upstreams
upstream: { base_url: ${blueUrl}, api: openai, api_key_env: UPSTREAM_KEY, timeout: { connect: 2s, request: ${options.requestTimeout ?? '5s'} } }
blue:  { model: blue-model }
green: { model: green-model, upstream: { base_url: ${greenUrl} } }
traffic: { rate: 1 }
stages:
  - { duration: 1m, green_weight: 0.5 }
${options.proxy ?? ''}`;
}

/** A plan whose arms both go to one base URL (a scripted server), with a key in UPSTREAM_KEY. */
export function scriptedPlan(baseUrl: string, options: { api?: 'openai' | 'anthropic'; proxy?: string } = {}): string {
  return `
name: proxy-scripted
upstream: { base_url: ${baseUrl}, api: ${options.api ?? 'openai'}, api_key_env: UPSTREAM_KEY, timeout: { connect: 2s, request: 5s, idle: 2s } }
blue:  { model: blue-model }
green: { model: green-model }
traffic: { rate: 1 }
stages:
  - { duration: 1m, green_weight: 0.5 }
${options.proxy ? `proxy: ${options.proxy}\n` : ''}`;
}

/** An upstream answering every request 200 with one fixed OpenAI completion. */
export function completionServer(model: string, content: string): Promise<Scripted> {
  return scriptedServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(openAiCompletion(model, content));
  });
}

export const UPSTREAM_KEY = 'sk-upstream-secret-0123456789abcdef';

export function openAiCompletion(model: string, content: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content, ...extra }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
  });
}

/** Runs `one` for 0..count-1, `batch` at a time, and gives the results in order. */
export async function inBatches<T>(count: number, batch: number, one: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let start = 0; start < count; start += batch) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(batch, count - start) }, (_, k) => one(start + k)))));
  }
  return out;
}

/**
 * A streamed request through the proxy (chat by default), read as it arrives; `text()` is what the client has so
 * far, `ended()` whether its stream ended whole or broke.
 */
export function streamedRequest(proxy: Running, path = '/chat/completions', body = '{"model":"blue-model","stream":true,"messages":[]}') {
  let text = '';
  let ended: 'complete' | 'broken' | undefined;
  let status: number | undefined;
  const done = fetch(`${proxy.baseUrl}${path}`, { method: 'POST', body }).then(async (res) => {
    status = res.status;
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done: over } = await reader.read();
        if (over) break;
        text += decoder.decode(value, { stream: true });
      }
      ended = 'complete';
    } catch {
      ended = 'broken';
    }
  });
  return { text: () => text, ended: () => ended, status: () => status, done };
}

/** Writes a raw request on a new connection and resolves with everything answered until the connection closed. */
export function rawExchange(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(raw));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}
