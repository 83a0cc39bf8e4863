// Maps what came back (a status and error body, or a network error) to a FailureClass.
import { header, type HeaderMap } from '../core/retry.js';
import { isObject, parseJson, str } from './shape.js';
import type { FailureClass, RateLimitInfo } from './types.js';
import { errorText } from '../core/errors.js';
import { formatDuration, oneLine } from '../core/format.js';

export { header, type HeaderMap };

/** The fields of an error body worth reading, in OpenAI's or Anthropic's shape. */
export interface ErrorInfo {
  message?: string;
  type?: string;
  code?: string;
  /** The request parameter the error names (OpenAI's `param`). */
  param?: string;
}

const MAX_DETAIL = 200;

/** Whitespace collapsed, control characters gone, cut to a length that fits one sentence. */
export function shorten(text: string): string {
  return oneLine(text, MAX_DETAIL);
}

export function parseErrorBody(text: string): ErrorInfo {
  const parsed = parseJson(text);
  if (!parsed.ok) {
    // A proxy's HTML error page says nothing useful in one line; short plain text might.
    const plain = text.trim();
    return plain && !plain.startsWith('<') ? { message: shorten(plain) } : {};
  }
  // Gemini's OpenAI-compatible endpoint wraps some errors in a one-element list.
  const body = Array.isArray(parsed.value) ? (parsed.value[0] as unknown) : parsed.value;
  if (!isObject(body)) return {};
  const error = body.error;
  if (typeof error === 'string') return { message: shorten(error) };
  const source = isObject(error) ? error : body;
  const message = str(source.message);
  const code = source.code;
  return {
    message: message === undefined ? undefined : shorten(message),
    type: str(source.type),
    code: typeof code === 'number' ? String(code) : str(code),
    param: str(source.param),
  };
}

export function classifyStatus(status: number, info: ErrorInfo): FailureClass {
  if (status === 408) return 'timeout';
  if (status === 401 || status === 403) return 'auth';
  // OpenRouter and other relays answer 402 when the account's credit is gone: quota, never worth a retry.
  if (status === 402) return 'quota';
  if (status === 429) {
    return info.code === 'insufficient_quota' || info.type === 'insufficient_quota' ? 'quota' : 'rate_limited';
  }
  if (status >= 500) return 'server_error';
  if (status >= 400) return 'client_error';
  // 1xx/3xx: undici does not follow redirects, so this is an endpoint that does not speak the API.
  return 'bad_response';
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EPIPE',
  'ETIMEDOUT',
  'EPROTO',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function errorCode(err: unknown): string | undefined {
  if (!isObject(err) && !(err instanceof Error)) return undefined;
  const record = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof record.code === 'string') return record.code;
  // Happy-eyeballs connects fail with an AggregateError of one error per address.
  if (Array.isArray(record.errors) && record.errors.length > 0) return errorCode(record.errors[0]);
  return record.cause === undefined ? undefined : errorCode(record.cause);
}

/** A failure to exchange bytes: a connection problem, or (for invalid arguments) our own request. */
export function classifyNetworkError(err: unknown, connectMs: number): { failure: FailureClass; reason: string } {
  const code = errorCode(err);
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return { failure: 'connection', reason: `connect timed out after ${formatDuration(connectMs)}` };
  if (code !== undefined && CONNECTION_CODES.has(code)) return { failure: 'connection', reason: code };
  // undici refuses a malformed request (e.g. a header value with a newline) before sending it.
  if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED') {
    return { failure: 'client_error', reason: `invalid request: ${err instanceof Error ? err.message : code}` };
  }
  const message = errorText(err);
  return { failure: 'connection', reason: code ?? shorten(message) };
}

function headerNumber(headers: HeaderMap, ...names: string[]): number | undefined {
  for (const name of names) {
    const raw = header(headers, name);
    if (raw === undefined || raw.trim() === '') continue;
    const value = Number(raw);
    if (Number.isFinite(value)) return value;
  }
  return undefined;
}

export function parseRateLimit(headers: HeaderMap | undefined): RateLimitInfo | undefined {
  if (!headers) return undefined;
  const remainingRequests = headerNumber(headers, 'x-ratelimit-remaining-requests', 'anthropic-ratelimit-requests-remaining');
  const remainingTokens = headerNumber(headers, 'x-ratelimit-remaining-tokens', 'anthropic-ratelimit-tokens-remaining');
  if (remainingRequests === undefined && remainingTokens === undefined) return undefined;
  return {
    ...(remainingRequests !== undefined ? { remainingRequests } : {}),
    ...(remainingTokens !== undefined ? { remainingTokens } : {}),
  };
}

/** The answer says it is JSON (application/json, or a +json type): not the event stream a streamed request wants. */
export function isJsonAnswer(headers: HeaderMap): boolean {
  const type = header(headers, 'content-type');
  if (type === undefined) return false;
  // The usual spellings, decided without a string made: this is asked of every streamed answer.
  if (type === 'text/event-stream') return false;
  if (type === 'application/json') return true;
  const media = type.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return media === 'application/json' || media.endsWith('+json');
}
