// The simulated upstream: a loopback node:http server speaking OpenAI (chat completions and the Responses API) and
// Anthropic with per-model faults.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SimulateConfig } from '../plan/schema.js';
import { anthropicDialect, countMessageTokens } from './anthropic.js';
import { createRateBudget } from './budget.js';
import { isErrorReply, type Completion, type Dialect } from './dialect.js';
import { readJsonBody, sendJson } from './http.js';
import { modelEntry, modelList } from './models.js';
import { openaiDialect, openaiErrorBody } from './openai.js';
import { planResponse } from './outcome.js';
import { findProfile, profileAt } from './profile.js';
import { respond } from './respond.js';
import { countInputTokens, finishedResponse, responsesDialect } from './responses.js';
import { ResponseStore, storedPath } from './stored.js';
import { childSeed, createRandom, type RandomSource } from '../core/random.js';
import { generateTokens, randomId } from './text.js';
import { RequestTimers } from './timers.js';
import { errorText } from '../core/errors.js';
import { Slots } from '../core/slots.js';
import { steadyNow, systemClock, type Clock } from '../core/clock.js';

export interface SimulatorHandle {
  /** http://127.0.0.1:PORT/v1 — the OpenAI base URL; the Anthropic SDK wants it without /v1. */
  baseUrl: string;
  port: number;
  /** Completion requests received (chat completions, responses and messages), whatever their outcome. */
  requestCount(): number;
  /** Completion requests by the model they named (those that named one). */
  requestsByModel(): Record<string, number>;
  /** Stops listening, drops every connection (hanging ones included) and cancels pending answers. */
  close(): Promise<void>;
}

export interface SimulatorOptions {
  /** Overrides config.port; 0 or absent picks a free port. */
  port?: number;
  /**
   * A hand-moved clock for tests: drives `changes[].at` (the time since start on it) and the rate-limit minute;
   * without it, `changes[].at` is steady time on `clock` and the minute the clock's wall time.
   */
  now?: () => number;
  /**
   * Times the answers (their delays, a stream's pace) and, without `now`, `changes[].at`; the real clock by default.
   * A test's fake clock shared with the rollout's makes each answer take exactly its drawn latency on that clock.
   */
  clock?: Clock;
}

const ROUTES: Record<string, { method: string; dialect: Dialect }> = {
  '/chat/completions': { method: 'POST', dialect: openaiDialect },
  '/messages': { method: 'POST', dialect: anthropicDialect },
  '/responses': { method: 'POST', dialect: responsesDialect },
};

const SERVED =
  " The simulated upstream (bluegreen's upstream.simulate) serves chat completions, the Responses API, Anthropic's messages, their token counts and the model list only.";

/** What one simulator keeps across its requests. */
interface SimState {
  config: SimulateConfig;
  clock: Clock;
  now: () => number;
  startedAt: number;
  /** Time since start, for `changes[].at`: steady, so a wall clock stepped by an hour neither brings on nor holds off a change. */
  elapsed: () => number;
  /** One source hands each request its own seed, in arrival order: outcomes follow the seed and that order. */
  seeds: RandomSource;
  budget: ReturnType<typeof createRateBudget>;
  /** The timers of the requests under way (in slots: a churned Set's old tables would promote them, src/core/slots.ts). */
  inFlight: Slots<RequestTimers>;
  byModel: Map<string, number>;
  /** Completion requests received. */
  total: number;
  /** What the Responses API stores, as one upstream account keeps it. */
  stored: ResponseStore;
}

export function startSimulator(config: SimulateConfig, options: SimulatorOptions = {}): Promise<SimulatorHandle> {
  const clock = options.clock ?? systemClock;
  const now = options.now ?? (() => clock.now());
  const startedAt = now();
  const steadyStart = steadyNow(clock);
  const sim: SimState = {
    config,
    clock,
    now,
    startedAt,
    elapsed: options.now ? () => now() - startedAt : () => steadyNow(clock) - steadyStart,
    seeds: createRandom(config.seed ?? 1),
    budget: createRateBudget(now),
    inFlight: new Slots<RequestTimers>(),
    byModel: new Map<string, number>(),
    total: 0,
    stored: new ResponseStore(),
  };
  const server = createServer((req, res) => {
    Promise.resolve(route(sim, req, res)).catch((error: unknown) => {
      // A bug in the simulator should look like an upstream 500, not kill the process.
      const message = errorText(error);
      sendJson(res, 500, openaiErrorBody(`Simulator internal error: ${message}`, 'server_error', null));
    });
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? config.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      let closing: Promise<void> | undefined;
      resolve({
        baseUrl: `http://127.0.0.1:${port}/v1`,
        port,
        requestCount: () => sim.total,
        requestsByModel: () => Object.fromEntries(sim.byModel),
        close() {
          closing ??= new Promise<void>((done) => {
            // Each leaves its slot as its connection closes.
            for (const timers of sim.inFlight.values()) timers.cancel();
            server.close(() => done());
            // Hanging (timeout_rate) and keep-alive sockets would hold close() open; drop them now.
            server.closeAllConnections();
          });
          return closing;
        },
      });
    });
  });
}

/** A chat completion, Responses or Messages request: refused as the real API would, or answered by the model's profile. */
async function handleCompletion(sim: SimState, req: IncomingMessage, res: ServerResponse, dialect: Dialect): Promise<void> {
  sim.total += 1;
  const timers = new RequestTimers(sim.clock);
  const slot = sim.inFlight.add(timers);
  res.on('close', () => {
    timers.cancel();
    sim.inFlight.remove(slot);
  });
  const requestSeed = childSeed(sim.seeds);
  const random = createRandom(requestSeed);
  const id = randomId(random, dialect.idPrefix);
  const baseHeaders = { [dialect.requestIdHeader]: `req_${id.slice(-24)}` };
  const fail = (reply: { status: number; body: unknown }) => sendJson(res, reply.status, reply.body, baseHeaders);

  const headerProblem = dialect.checkHeaders(req.headers);
  if (headerProblem) {
    req.resume();
    return fail(headerProblem);
  }
  const read = await readJsonBody(req);
  if (!read.ok) {
    return fail(
      read.reason === 'too_large'
        ? dialect.error('too_large', 'Request body too large.')
        : dialect.error('invalid_request', 'The request body is not valid JSON.'),
    );
  }
  const parsed = dialect.parseRequest(read.value);
  if (isErrorReply(parsed)) return fail(parsed);
  const missing = dialect === responsesDialect ? sim.stored.refuses(read.value) : undefined;
  if (missing) return fail(missing);
  sim.byModel.set(parsed.model, (sim.byModel.get(parsed.model) ?? 0) + 1);

  const base = findProfile(sim.config, parsed.model);
  if (!base) {
    return fail(dialect.error('not_found', `The model \`${parsed.model}\` does not exist or you do not have access to it.`, 'model'));
  }
  const profile = profileAt(base, sim.elapsed());
  const plan = planResponse(profile, random, { stream: parsed.stream, maxTokens: parsed.maxTokens });
  const completion: Completion = {
    id,
    model: parsed.model,
    created: Math.floor(sim.now() / 1000),
    tokens: generateTokens(random, plan.completionTokens),
    promptTokens: parsed.promptTokens,
    truncated: plan.truncated,
    includeUsage: parsed.includeUsage,
    ...(parsed.choices !== undefined && { choices: parsed.choices }),
  };
  const limits = sim.budget.take(parsed.model, parsed.promptTokens + plan.completionTokens * (parsed.choices ?? 1));
  const headers: Record<string, string> = { ...baseHeaders, ...limits };
  if (dialect.name === 'anthropic') {
    headers['anthropic-ratelimit-requests-remaining'] = limits['x-ratelimit-remaining-requests'] ?? '';
    headers['anthropic-ratelimit-tokens-remaining'] = limits['x-ratelimit-remaining-tokens'] ?? '';
  }
  if (dialect === responsesDialect && plan.fault === undefined && plan.badVariant === undefined) sim.stored.save(read.value, finishedResponse(completion));
  respond({ res, dialect, timers, clock: sim.clock, headers, stream: parsed.stream }, plan, completion);
}

function handleModels(sim: SimState, req: IncomingMessage, res: ServerResponse, id: string | undefined): void {
  const created = Math.floor(sim.startedAt / 1000);
  if (id === undefined) return sendJson(res, 200, modelList(sim.config, created));
  if (findProfile(sim.config, id)) return sendJson(res, 200, modelEntry(id, created));
  // Both SDKs share this path: the Anthropic one says its API version, and reads its own error shape.
  if (req.headers['anthropic-version'] !== undefined) {
    const reply = anthropicDialect.error('not_found', `model: ${id}`);
    return sendJson(res, reply.status, reply.body);
  }
  sendJson(
    res,
    404,
    openaiErrorBody(`The model \`${id}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found', 'model'),
  );
}

/** A token count (the Responses API's, or Anthropic's), answered in its dialect's shape. */
async function countTokens(req: IncomingMessage, res: ServerResponse, dialect: Dialect): Promise<void> {
  const read = await readJsonBody(req);
  const count = dialect === anthropicDialect ? countMessageTokens : countInputTokens;
  const reply = read.ok ? count(read.value) : dialect.error('invalid_request', 'The request body is not valid JSON.');
  sendJson(res, reply.status, reply.body);
}

/** A path segment %-decoded, or undefined when its escapes are malformed (`%E0%A4%A`). */
function decodedSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** Which handler answers a request, by path and method. */
function route(sim: SimState, req: IncomingMessage, res: ServerResponse): Promise<void> | void {
  const method = req.method ?? 'GET';
  // Accept both {base}/v1/... and {base}/..., so a base URL with or without /v1 works.
  const path = new URL(req.url ?? '/', 'http://sim').pathname.replace(/\/+$/, '').replace(/^\/v1(?=\/)/, '');
  const completion = ROUTES[path];
  if (completion && method === completion.method) return handleCompletion(sim, req, res, completion.dialect);
  if (path === '/responses/input_tokens' && method === 'POST') return countTokens(req, res, openaiDialect);
  if (path === '/messages/count_tokens' && method === 'POST') return countTokens(req, res, anthropicDialect);
  const storedAt = storedPath(path);
  const storedReply = storedAt && sim.stored.serve(method, storedAt);
  if (storedReply) return sendJson(res, storedReply.status, storedReply.body);
  const modelMatch = /^\/models(?:\/(.+))?$/.exec(path);
  if (modelMatch && method === 'GET') {
    const id = modelMatch[1];
    // A malformed %-escape names no model: the 404 below, not a URIError's 500.
    return handleModels(sim, req, res, id === undefined ? undefined : (decodedSegment(id) ?? id));
  }
  req.resume();
  const known = completion !== undefined || modelMatch !== null || storedAt !== undefined;
  sendJson(
    res,
    known ? 405 : 404,
    openaiErrorBody(
      // Said to be the simulator's: through `bluegreen proxy`, an application's embeddings relayed to it read as the
      // proxy refusing them (newuser33).
      `${known ? 'Method not allowed' : 'Unknown request URL'}: ${method} ${req.url ?? '/'}.${known ? '' : SERVED}`,
      'invalid_request_error',
      known ? 'method_not_supported' : 'unknown_url',
    ),
  );
}
