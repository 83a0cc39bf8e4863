// The application's side of the proxy, per API dialect: which paths are served, where the client key and the
// sticky id are, and the error bodies the proxy itself answers with, in the shape the application's SDK reads.
import type { IncomingHttpHeaders } from 'node:http';
import type { ApiDialect } from '../plan/plan.js';
import { stickyKeyOf } from '../traffic/sampled-line.js';

/** Errors the proxy answers itself (not the upstream's, which pass through as they are). */
export type ProxyErrorKind =
  | 'unauthorized'
  | 'forbidden'
  | 'bad_request'
  | 'too_large'
  | 'headers_too_large'
  | 'not_found'
  | 'model_not_found'
  | 'method'
  | 'expectation'
  | 'overloaded'
  | 'slow_client'
  | 'timeout'
  | 'unavailable';

export interface ProxyErrorReply {
  status: number;
  body: string;
}

export interface InboundDialect {
  readonly api: ApiDialect;
  /** POST path of chat requests, as the application's SDK sends it. */
  readonly chatPath: string;
  /** POST path of the Responses API, split like chat when both arms' upstreams have one (OpenAI only). */
  readonly responsesPath?: string;
  /**
   * The dialect's other JSON endpoints that name a model, relayed to blue's upstream unread (src/proxy/relay.ts)
   * so an application's embeddings or token counts keep working when only its base URL changes.
   */
  readonly relayPaths: readonly RelayPath[];
  /** The key the application presented, if any. */
  clientKey(headers: IncomingHttpHeaders): string | undefined;
  /** The headers (lower case) clientKey reads: each may come once only (intake.ts keyRefusal). */
  readonly keyHeaders: readonly string[];
  /** Why the key headers disagree (two of them carrying different keys), else undefined: such a request is refused. */
  keyConflict?(headers: IncomingHttpHeaders): string | undefined;
  error(kind: ProxyErrorKind, message: string): ProxyErrorReply;
}

export interface RelayPath {
  /** POST path as the application's SDK sends it (under /v1). */
  path: string;
  /**
   * The model under rollout may be named: the request goes to blue with blue's model (a token count answers
   * nothing). Elsewhere such a request is refused: it would be answered by blue unsplit and unjudged.
   */
  takesSplitModel: boolean;
}

/** The header an application may set to choose the sticky id itself (a user or conversation id). */
const STICKY_HEADER = 'x-bluegreen-sticky-key';

const STATUS: Record<ProxyErrorKind, number> = {
  unauthorized: 401,
  forbidden: 403,
  bad_request: 400,
  too_large: 413,
  headers_too_large: 431,
  not_found: 404,
  model_not_found: 404,
  method: 405,
  expectation: 417,
  overloaded: 503,
  slow_client: 408,
  timeout: 504,
  unavailable: 502,
};

const OPENAI_TYPES: Record<ProxyErrorKind, [type: string, code: string | null]> = {
  unauthorized: ['invalid_request_error', 'invalid_api_key'],
  forbidden: ['invalid_request_error', 'forbidden_origin'],
  bad_request: ['invalid_request_error', null],
  too_large: ['invalid_request_error', 'request_too_large'],
  headers_too_large: ['invalid_request_error', 'request_headers_too_large'],
  not_found: ['invalid_request_error', 'unknown_url'],
  // As OpenAI answers a model that does not exist or the key may not use.
  model_not_found: ['invalid_request_error', 'model_not_found'],
  method: ['invalid_request_error', 'method_not_supported'],
  expectation: ['invalid_request_error', 'expectation_failed'],
  overloaded: ['server_error', 'proxy_overloaded'],
  slow_client: ['invalid_request_error', 'request_timeout'],
  timeout: ['server_error', 'upstream_timeout'],
  unavailable: ['server_error', 'upstream_unavailable'],
};

const ANTHROPIC_TYPES: Record<ProxyErrorKind, string> = {
  unauthorized: 'authentication_error',
  forbidden: 'permission_error',
  bad_request: 'invalid_request_error',
  too_large: 'request_too_large',
  headers_too_large: 'request_too_large',
  not_found: 'not_found_error',
  model_not_found: 'not_found_error',
  method: 'invalid_request_error',
  expectation: 'invalid_request_error',
  overloaded: 'overloaded_error',
  slow_client: 'invalid_request_error',
  timeout: 'api_error',
  unavailable: 'api_error',
};

function bearer(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(value.trim());
  return match ? (match[1] as string).trim() : undefined;
}

function apiKeyHeader(headers: IncomingHttpHeaders): string | undefined {
  const key = headers['x-api-key'];
  return Array.isArray(key) ? key[0] : key;
}

const openAiInbound: InboundDialect = {
  api: 'openai',
  chatPath: '/v1/chat/completions',
  responsesPath: '/v1/responses',
  relayPaths: [
    { path: '/v1/embeddings', takesSplitModel: false },
    { path: '/v1/moderations', takesSplitModel: false },
    { path: '/v1/completions', takesSplitModel: false },
    // A Responses API request's token count: for the model under rollout it goes to blue with blue's model.
    { path: '/v1/responses/input_tokens', takesSplitModel: true },
  ],
  clientKey: (headers) => bearer(headers.authorization),
  keyHeaders: ['authorization'],
  error(kind, message) {
    const [type, code] = OPENAI_TYPES[kind];
    return { status: STATUS[kind], body: JSON.stringify({ error: { message, type, param: null, code } }) };
  },
};

const anthropicInbound: InboundDialect = {
  api: 'anthropic',
  chatPath: '/v1/messages',
  relayPaths: [{ path: '/v1/messages/count_tokens', takesSplitModel: true }],
  // The SDK sends x-api-key; an auth token client sends Authorization: Bearer.
  clientKey: (headers) => apiKeyHeader(headers) ?? bearer(headers.authorization),
  keyHeaders: ['x-api-key', 'authorization'],
  // Both, with different keys: which one the proxy took (x-api-key) would be its choice alone, and a wrong key
  // beside a right one passed; another hop may read the other.
  keyConflict: (headers) => {
    const apiKey = apiKeyHeader(headers);
    const token = bearer(headers.authorization);
    return apiKey !== undefined && token !== undefined && apiKey !== token
      ? 'the request carries a client key in both x-api-key and Authorization, and they differ; send one'
      : undefined;
  },
  error(kind, message) {
    return { status: STATUS[kind], body: JSON.stringify({ type: 'error', error: { type: ANTHROPIC_TYPES[kind], message } }) };
  },
};

export function inboundFor(api: ApiDialect): InboundDialect {
  return api === 'anthropic' ? anthropicInbound : openAiInbound;
}

/**
 * The id that keeps a user or conversation on one arm: the sticky header, else what `read` finds in the body
 * (for chat, what the traffic path reads).
 */
export function stickyKey(
  body: Record<string, unknown>,
  headers: IncomingHttpHeaders,
  read: (body: Record<string, unknown>) => string | undefined = stickyKeyOf,
): string | undefined {
  const header = headers[STICKY_HEADER];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  return fromHeader ? fromHeader : read(body);
}
