// One forwarding target per arm: a keep-alive undici pool to its upstream, its dialect, and the headers every
// request to it carries (the upstream key among them; it never leaves this object except towards the upstream).
import type { Dispatcher } from 'undici';
import { createRedactor, MIN_SECRET_LENGTH, type Redactor } from '../core/redact.js';
import type { ArmName, UpstreamConfig } from '../plan/plan.js';
import { ARMS } from '../plan/plan.js';
import { headerCredentials } from '../plan/secrets.js';
import { adaptOpenAiBody, adaptResponsesBody, applyDropAndSet, resolveAdaptation, type RequestAdaptation, type TokenParam } from '../upstream/adapt.js';
import { isAzureV1 } from '../upstream/azure.js';
import { dialectFor, routesFor } from '../upstream/client.js';
import { ANTHROPIC_LEADING_EVENTS } from '../upstream/anthropic.js';
import { parseResponses, responsesStreamReader, RESPONSES_LEADING_EVENTS } from '../upstream/openai-responses.js';
import { createDispatcher } from '../upstream/proxy-env.js';
import { RequestTimerBatch } from '../upstream/dispatch.js';
import type { ForwardTarget } from './forward-types.js';
import { HeaderKeys, OtherSpellings } from './header-keys.js';
import { base64Spellings, otherSpellings } from '../core/secret-spellings.js';
import { SplitKeys } from './split-key.js';
import { keepTimerLists } from './timer-lists.js';

export interface ArmUpstream {
  arm: ArmName;
  model: string;
  upstream: UpstreamConfig & { baseUrl: string };
  apiKey?: string;
}

export interface Targets {
  /** Each arm's chat path (chat completions, Anthropic's messages). */
  arms: Record<ArmName, ForwardTarget>;
  /**
   * Each arm's Responses API path ({base}/responses, beside its chat path); undefined when an arm has none (an
   * Anthropic plan, an Azure deployments path).
   */
  responses?: Record<ArmName, ForwardTarget>;
  /**
   * Both arms reach one upstream (origin and path) with one key and the same headers: a response stored by one
   * arm's model can be continued by the other's (the same account holds it).
   */
  sharedState: boolean;
  /** GET {base}/models on blue's upstream, as a path on blue's pool. */
  modelsPath: string;
  /**
   * The application's relayed paths (InboundDialect.relayPaths) and each one's path on blue's pool: {base} plus
   * the path after /v1. Empty for an Azure blue, whose deployment paths name one model.
   */
  relayPaths: ReadonlyMap<string, string>;
  /** Every upstream key, cut out of headers and error bodies passed back to the client (built once). */
  redactor: Redactor;
  /**
   * Every upstream key in every spelling, base64 included, for a failure's reason in the results feed: it goes on to
   * the rollout's journal, state and reports, and a live rollout does not know the keys to cut them itself.
   */
  reasonRedactor: Redactor;
  /** Every upstream key as an answer header may carry it: in its name, plain or encoded (built once). */
  headerKeys: HeaderKeys;
  /** Whether an answer's text may quote an upstream key in any spelling (a cheap search, so answers need no redaction pass). */
  mayQuoteKey(text: string): boolean;
  /** Catches a key split across a streamed answer's chunks (built once). */
  splitKeys: SplitKeys;
  close(): Promise<void>;
}

/** Whether adapting a body for the arm would change anything but its model (src/upstream/adapt.ts). */
function keepsBody(adaptation: RequestAdaptation, fixedTokenField: boolean): (body: Readonly<Record<string, unknown>>) => boolean {
  if (Object.keys(adaptation.set).length > 0) return () => false;
  const drop = [...adaptation.drop];
  const other: TokenParam = adaptation.tokenParam === 'max_tokens' ? 'max_completion_tokens' : 'max_tokens';
  return (body) => {
    for (const key of drop) if (key in body) return false;
    if (fixedTokenField) return true;
    // adaptOpenAiBody moves the limit to the arm's field and drops a null one.
    const limit = body[adaptation.tokenParam];
    return !(other in body) && (limit !== null || !(adaptation.tokenParam in body));
  };
}

export interface TargetOptions {
  /** Read for HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as the traffic path's client does. */
  env?: NodeJS.ProcessEnv;
  maxConnections?: number;
  /** Largest answer read whole (ForwardTarget.maxResponseBytes). */
  maxResponseBytes: number;
  /** Longest a stream may go on after its first byte (ForwardTarget.maxStreamMs). */
  maxStreamMs: number;
  /** Longest a green stream's start is held while blue can answer (ForwardTarget.openingHoldMs). */
  openingHoldMs: number;
  /** The application's paths relayed to blue's upstream (InboundDialect.relayPaths). */
  relayed?: readonly string[];
}

/**
 * Where an upstream takes another of the application's paths (under /v1): beside its chat path, with its query
 * (Azure's api-version). None on Azure's deployments path, whose deployment is the chat model's.
 */
function besideChat(upstream: UpstreamConfig & { baseUrl: string }, chat: URL, path: string): string | undefined {
  const chatSuffix = dialectFor(upstream.api).chatPath;
  if ((upstream.api === 'azure' && !isAzureV1(upstream.baseUrl)) || !chat.pathname.endsWith(chatSuffix)) return undefined;
  return chat.pathname.slice(0, -chatSuffix.length) + path.replace(/^\/v1/, '') + chat.search;
}

/** Where blue's upstream takes each relayed path (besideChat); none when it has no such place. */
function relayPathsFor(blue: UpstreamConfig & { baseUrl: string }, chat: URL, relayed: readonly string[]): Map<string, string> {
  const paths = new Map<string, string>();
  for (const path of relayed) {
    const upstreamPath = besideChat(blue, chat, path);
    if (upstreamPath !== undefined) paths.set(path, upstreamPath);
  }
  return paths;
}

/** The Responses API path of an OpenAI(-compatible) upstream; none for Anthropic or an Azure deployments path. */
function responsesPath(upstream: UpstreamConfig & { baseUrl: string }, chat: URL): string | undefined {
  return upstream.api === 'anthropic' ? undefined : besideChat(upstream, chat, '/v1/responses');
}

export function createTargets(arms: Record<ArmName, ArmUpstream>, options: TargetOptions): Targets {
  const { env = {}, maxConnections = 256, maxResponseBytes, maxStreamMs, openingHoldMs, relayed = [] } = options;
  // Arms on the same origin share one pool, as they share one upstream.
  const pools = new Map<string, { dispatcher: Dispatcher; proxy?: string }>();
  const built = {} as Record<ArmName, ForwardTarget>;
  const responses = {} as Record<ArmName, ForwardTarget>;
  let responsesServed = true;
  const requestTimers = new RequestTimerBatch();
  for (const name of ARMS) {
    const { arm, model, upstream, apiKey } = arms[name];
    const dialect = dialectFor(upstream.api);
    // routesFor knows Azure's deployment paths and api-version as well as {base}/chat/completions and /messages.
    const routes = routesFor(upstream, model);
    const chatUrl = routes.chat;
    const adaptation = resolveAdaptation(model, upstream.request);
    const adapt = upstream.api === 'anthropic' ? applyDropAndSet : adaptOpenAiBody;
    let pool = pools.get(chatUrl.origin);
    if (!pool) {
      pool = createDispatcher(chatUrl, { connections: maxConnections, connectTimeoutMs: upstream.timeout.connectMs, env });
      pools.set(chatUrl.origin, pool);
    }
    const headers: Record<string, string> = { 'user-agent': 'bluegreen-proxy', 'accept-encoding': 'identity', ...dialect.headers(apiKey) };
    // Plan headers come last so an operator can override anything, as the traffic path allows.
    for (const [key, value] of Object.entries(upstream.headers)) headers[key.toLowerCase()] = value;
    const requestHeaders = {
      stream: Object.freeze({ 'content-type': 'application/json', accept: 'text/event-stream', ...headers }),
      json: Object.freeze({ 'content-type': 'application/json', accept: 'application/json', ...headers }),
    };
    built[name] = {
      arm,
      model,
      parse: (json) => dialect.parse(json),
      answers: dialect.sharedAnswerReader?.(),
      streamReader: dialect.sharedStreamReaders(),
      ...(upstream.api === 'anthropic' && { leadingEvents: ANTHROPIC_LEADING_EVENTS }),
      dispatcher: pool.dispatcher,
      // A forward proxy's agent adds `host` to the headers object it is given; a pool leaves it as it is.
      headersKept: pool.proxy === undefined,
      origin: chatUrl.origin,
      chatPath: chatUrl.pathname + chatUrl.search,
      headers,
      requestHeaders,
      prepare: (body) => adapt({ ...body, model: routes.bodyModel }, adaptation),
      bodyModel: routes.bodyModel,
      keepsBody: keepsBody(adaptation, upstream.api === 'anthropic'),
      timeouts: { requestMs: upstream.timeout.requestMs, idleMs: upstream.timeout.idleMs, connectMs: upstream.timeout.connectMs },
      requestTimers,
      maxResponseBytes,
      maxStreamMs,
      openingHoldMs,
    };
    // The same pool, key and headers; the Responses API's path, body adaptation and answer readers.
    const path = responsesPath(upstream, chatUrl);
    if (path === undefined) responsesServed = false;
    else
      responses[name] = {
        ...built[name],
        parse: parseResponses,
        answers: undefined,
        streamReader: responsesStreamReader,
        leadingEvents: RESPONSES_LEADING_EVENTS,
        chatPath: path,
        prepare: (body) => adaptResponsesBody({ ...body, model: routes.bodyModel }, adaptation),
        keepsBody: keepsBody(adaptation, true),
      };
  }
  const blue = arms.blue.upstream;
  const modelsUrl = routesFor(blue, arms.blue.model).models;
  // The redactor counts any SECRET_PREFIX_LENGTH-long prefix of a key's spelling as the key: an answer with no
  // such prefix of any spelling holds no key. Arms sharing one key (the usual case) search for it once.
  // With any credential the plan put in upstream.headers (docs/plan.md: redacted as keys are).
  const keys = ARMS.flatMap((arm) => [arms[arm].apiKey, ...headerCredentials(arms[arm].upstream.headers)]);
  // The redactor knows the keys' other spellings too (hex, \uXXXX escapes, upper or lower case), which a whole
  // answer is searched for (header-keys.ts); a streamed chunk is searched for the usual spellings only (split-key.ts).
  const secrets = keys.map((key) => key?.trim() ?? '').filter((key) => key.length >= MIN_SECRET_LENGTH);
  const redactor = createRedactor([...keys, ...secrets.flatMap(otherSpellings)]);
  const reasonRedactor = createRedactor([...keys, ...secrets.flatMap(otherSpellings), ...secrets.flatMap(base64Spellings)]);
  const splitKeys = new SplitKeys(keys, redactor);
  const others = new OtherSpellings(secrets);
  const headerKeys = new HeaderKeys(keys);
  // The headers hold the key and any account selector a plan sets (openai-project): the same ones, the same account.
  const sameHeaders = JSON.stringify(built.blue.headers) === JSON.stringify(built.green.headers);
  const sameUpstream = built.blue.origin === built.green.origin && built.blue.chatPath === built.green.chatPath && sameHeaders;
  // The request timers' lists (and a stream's idle and duration timers'), kept rather than made for each request.
  const stopKeeping = keepTimerLists(ARMS.flatMap((arm) => [built[arm].timeouts.requestMs, built[arm].timeouts.idleMs, maxStreamMs, openingHoldMs]));
  return {
    arms: built,
    ...(responsesServed && { responses }),
    sharedState: sameUpstream,
    modelsPath: modelsUrl.pathname + modelsUrl.search,
    relayPaths: relayPathsFor(blue, routesFor(blue, arms.blue.model).chat, relayed),
    redactor,
    reasonRedactor,
    headerKeys,
    mayQuoteKey: (text) => splitKeys.mayQuote(text) || others.mayQuote(text),
    splitKeys,
    close: async () => {
      stopKeeping();
      await Promise.all([...pools.values()].map((pool) => pool.dispatcher.close()));
    },
  };
}
