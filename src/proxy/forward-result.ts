// The result of one forwarded request, as the metrics and the rollout read it.
import type { ArmName } from '../plan/plan.js';
import { parseRateLimit, type HeaderMap } from '../upstream/classify.js';
import { withShortReason, type FailureFacts } from '../upstream/describe.js';
import type { DialectReply } from '../upstream/dialect.js';
import { copyReply } from '../upstream/reply.js';
import type { UpstreamResult } from '../upstream/types.js';

export type ForwardFailure = FailureFacts & { failure: NonNullable<FailureFacts['failure']> };

/** One exchange with an arm, as far as it went: what every result of it shares. */
export interface Exchange {
  arm: ArmName;
  model: string;
  stream: boolean;
  latencyMs: number;
  status?: number;
  headers?: HeaderMap;
}

function baseResult(exchange: Exchange, ok: boolean): UpstreamResult {
  const result: UpstreamResult = {
    arm: exchange.arm,
    model: exchange.model,
    stream: exchange.stream,
    attempts: 1,
    ok,
    content: '',
    latencyMs: exchange.latencyMs,
  };
  if (exchange.status !== undefined) result.status = exchange.status;
  const rateLimit = parseRateLimit(exchange.headers);
  if (rateLimit) result.rateLimit = rateLimit;
  return result;
}

/** `ttftMs`: from the request's start to its first token, for a stream. */
export function succeededResult(exchange: Exchange, reply: DialectReply, ttftMs: number | undefined): UpstreamResult {
  const result = baseResult(exchange, true);
  // Finish, tool calls and refusals too: a tool call's empty text is no quality failure (as on the traffic path).
  copyReply(result, reply);
  if (reply.usage) result.usage = reply.usage;
  if (ttftMs !== undefined) result.ttftMs = ttftMs;
  return result;
}

/** `ttftMs`: a stream cut after its first token had one (as the traffic path records it: src/upstream/client.ts). */
export function failedResult(exchange: Exchange, facts: ForwardFailure, ttftMs?: number): UpstreamResult {
  const result = baseResult(exchange, false);
  result.failure = facts.failure;
  if (ttftMs !== undefined) result.ttftMs = ttftMs;
  // Short and key-free: the cause, never a body (an auth error may quote part of the key); a reason quoting the
  // upstream's message on one short line (the rollout prints and journals it).
  const { reason } = withShortReason(facts);
  result.errorMessage = `${exchange.arm} arm: ${facts.status !== undefined ? `${facts.status} ` : ''}${facts.failure}${reason ? ` (${reason})` : ''}`;
  return result;
}

/**
 * The client went away before the first byte, `exchange.latencyMs` into the attempt: a `client_abort` for the
 * results feed only (a rollout judges it as src/analysis/aborts.ts says; the proxy's figures count client aborts apart).
 */
export function abandonedResult(exchange: Exchange): UpstreamResult {
  const result = baseResult(exchange, false);
  result.failure = 'client_abort';
  result.errorMessage = `${exchange.arm} arm: the client went away after ${Math.round(exchange.latencyMs)} ms, before any output`;
  return result;
}
