// Scripted node:http upstreams for the tests: each request is recorded and answered by the next handler.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../src/core/clock.js';
import { parseObject } from '../../src/core/json.js';
import type { UpstreamConfig } from '../../src/plan/plan.js';
import { createUpstreamClient, type UpstreamClient } from '../../src/upstream/index.js';
import { closeAfterTest } from '../helpers/close-after-test.js';
import { closeServer, listenForTest } from '../helpers/loopback.js';

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The body parsed as a JSON object, or undefined. */
  json: Record<string, unknown> | undefined;
  remotePort: number | undefined;
}

export type Handler = (req: Recorded, res: http.ServerResponse) => void;

export interface TestServer {
  origin: string;
  /** origin + /v1, the base_url the tests use. */
  base: string;
  port: number;
  requests: Recorded[];
  close(): Promise<void>;
}

/** Handlers answer requests in order; the last one answers every request after that. Closed when the test ends. */
export async function startServer(handlers: Handler | Handler[]): Promise<TestServer> {
  const list = Array.isArray(handlers) ? handlers : [handlers];
  const requests: Recorded[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const recorded: Recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        json: parseObject(body),
        remotePort: req.socket.remotePort,
      };
      requests.push(recorded);
      const handler = list[Math.min(requests.length, list.length) - 1];
      handler?.(recorded, res);
    });
  });
  const address = await listenForTest(server);
  const origin = `http://${address}`;
  return { origin, base: `${origin}/v1`, port: (server.address() as AddressInfo).port, requests, close: () => closeServer(server) };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
}

/** An SSE response: each entry is a data payload (objects are JSON-encoded) or a full `event:`/`data:` pair. */
export function sse(events: unknown[], headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', ...headers });
    for (const entry of events) {
      if (typeof entry === 'object' && entry !== null && 'event' in entry && 'data' in entry) {
        const { event, data } = entry as { event: string; data: unknown };
        res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      } else {
        res.write(`data: ${typeof entry === 'string' ? entry : JSON.stringify(entry)}\n\n`);
      }
    }
    res.end();
  };
}

/** Never answers (the test's timeout must fire). */
export const stall: Handler = () => {};

export function openAiReply(content: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    model: 'gpt-4.1-2025-04-14',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
    ...extra,
  };
}

export function upstreamConfig(base: string, overrides: Partial<UpstreamConfig> = {}): UpstreamConfig & { baseUrl: string } {
  return {
    baseUrl: base,
    api: 'openai',
    apiKeyEnv: 'UPSTREAM_API_KEY',
    timeout: { connectMs: 1000, requestMs: 3000, idleMs: 2000 },
    retries: { max: 3, baseDelayMs: 100, maxDelayMs: 1000 },
    headers: {},
    modelsEndpoint: 'warn',
    request: { tokenParam: 'auto', params: {} },
    ...overrides,
  };
}

/** A sleep that records the delays asked for and resolves at once. */
export function recordingSleep(): { delays: number[]; sleep: (ms: number) => Promise<void> } {
  const delays: number[] = [];
  return {
    delays,
    sleep: (ms) => {
      delays.push(ms);
      return Promise.resolve();
    },
  };
}

/** A scripted upstream and a green client of it whose retry waits are recorded, not slept; closed after the test. */
export async function scriptedClient(
  handlers: Handler | Handler[],
  options: { model: string; apiKey: string; upstream?: Partial<UpstreamConfig>; random: () => number; clock?: Pick<Clock, 'now' | 'steadyNow'> },
): Promise<{ server: TestServer; client: UpstreamClient; delays: number[] }> {
  const server = await startServer(handlers);
  const recorder = recordingSleep();
  const client = closeAfterTest(
    createUpstreamClient({
      arm: 'green',
      model: options.model,
      upstream: upstreamConfig(server.base, options.upstream),
      apiKey: options.apiKey,
      sleep: recorder.sleep,
      random: options.random,
      ...(options.clock && { clock: options.clock }),
    }),
  );
  return { server, client, delays: recorder.delays };
}
