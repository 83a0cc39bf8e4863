// One-sentence failure messages: which arm, what came back, what to do. Never the key.
import { createRedactor } from '../core/redact.js';
import type { ApiDialect, ArmName } from '../plan/plan.js';
import { shorten, type ErrorInfo } from './classify.js';
import type { FailureClass } from './types.js';

export interface DescribeContext {
  arm: ArmName;
  model: string;
  api: ApiDialect;
  /** The endpoint as displayUrl shows it. */
  url: string;
  apiKeyEnv?: string;
  attempts: number;
}

export interface FailureFacts {
  failure: FailureClass;
  status?: number;
  /** Short cause: an error code, which timer fired, why a body was unusable. */
  reason?: string;
  expired?: 'request' | 'idle';
  /** From the error body of a non-2xx answer. */
  info?: ErrorInfo;
  location?: string;
}

/** A URL fit for messages and logs: no user info, no query string (either could carry a secret). */
export function displayUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** Replaces every occurrence of each secret, so an upstream echoing the key cannot leak it. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  return createRedactor(secrets).text(text);
}

function keyName(ctx: DescribeContext): string {
  return ctx.apiKeyEnv ? `the key in ${ctx.apiKeyEnv}` : 'the credentials in upstream.headers';
}

// Named by errors about the conversation or the model, which no plan key drops.
const NOT_PARAMS = new Set(['messages', 'model', 'prompt', 'input', 'system']);

/**
 * The top-level request parameter a 400 names: OpenAI's `param`, else its message ("Unsupported parameter:
 * 'max_tokens' ...", "Unsupported value: 'temperature' ..."), Gemini's "Unknown name", older Azure
 * api-versions' "Unrecognized request argument supplied: stream_options", or Anthropic's "top_k: Input ...".
 */
export function rejectedParam(info: ErrorInfo | undefined): string | undefined {
  // A content filter names the prompt: the parameter is fine, the text is not.
  if (!info || info.code === 'content_filter') return undefined;
  const message = info.message ?? '';
  const named =
    info.param ??
    /Unsupported (?:parameter|value): '([A-Za-z_][\w.]*)'/.exec(message)?.[1] ??
    /Unknown name "([A-Za-z_]\w*)"/.exec(message)?.[1] ??
    /Unrecognized request arguments? supplied: ([A-Za-z_]\w*)/.exec(message)?.[1] ??
    /^([a-z_][a-z0-9_]*)(?:\.[\w.]*)?: /.exec(message)?.[1];
  const top = named?.split(/[.[]/)[0];
  return top && /^[A-Za-z_]\w*$/.test(top) && !NOT_PARAMS.has(top) ? top : undefined;
}

/** The plan key that stops this arm sending the parameter its model rejected. */
export function paramFix(arm: ArmName, param: string): string {
  if (param === 'max_tokens') return `set ${arm}.request.token_param: max_completion_tokens`;
  if (param === 'max_completion_tokens') return `set ${arm}.request.token_param: max_tokens`;
  if (param === 'reasoning_effort') return `remove ${arm}.request.reasoning_effort`;
  return `add ${param} to ${arm}.request.drop`;
}

function statusAdvice(ctx: DescribeContext, facts: FailureFacts, status: number): string {
  switch (facts.failure) {
    case 'auth':
      if (status === 403) return `${keyName(ctx)} may not use ${ctx.model} here; check its permissions`;
      return ctx.apiKeyEnv ? `the key in ${ctx.apiKeyEnv} was rejected; check it` : 'the upstream wants a key; set upstream.api_key_env';
    case 'quota':
      return `the account behind ${keyName(ctx)} is out of quota; add credit or use another key`;
    case 'rate_limited':
      return "the upstream is rate limiting; lower traffic.rate or raise the account's limits";
    case 'server_error':
      // Named by arm: with one arm failing (green, usually), "the upstream is failing" read as if blue failed too.
      return status === 529
        ? `the upstream is overloaded for the ${ctx.arm} arm's requests (${ctx.model}); try later or lower traffic.rate`
        : `the upstream is failing the ${ctx.arm} arm's requests (${ctx.model}); check its status`;
    case 'timeout':
      return 'the upstream timed the request out; check its load';
    case 'client_error':
      if (status === 404) return `check the model name ${ctx.model} and upstream.base_url`;
      if (status === 409) return 'the upstream reported a conflict; check its status';
      if (status === 413) return 'the request is too large for the upstream; lower max_tokens or shorten the prompts';
      if (status === 400 || status === 422) {
        const param = rejectedParam(facts.info);
        if (param !== undefined) return `the ${ctx.arm} model ${ctx.model} does not accept the parameter ${param}; ${paramFix(ctx.arm, param)}`;
      }
      return `the upstream refused the request; check the model ${ctx.model} and the request parameters`;
    default:
      return 'check upstream.base_url';
  }
}

function describeBody(ctx: DescribeContext, raw: FailureFacts): string {
  const tries = ctx.attempts > 1 ? ` after ${ctx.attempts} attempts` : '';
  const facts = withShortReason(raw);
  const status = facts.status;
  if (facts.expired) {
    const knob = facts.expired === 'idle' ? 'upstream.timeout.idle' : 'upstream.timeout.request';
    return `${ctx.url} timed out (${facts.reason ?? facts.expired})${tries} — raise ${knob} or check the upstream's load`;
  }
  if (facts.failure === 'connection') {
    return `could not reach ${ctx.url} (${facts.reason ?? 'connection failed'})${tries} — check upstream.base_url and that the upstream is up`;
  }
  if (status === undefined) {
    return `could not send to ${ctx.url} (${facts.reason ?? facts.failure}) — check upstream.headers and the key for stray characters`;
  }
  if (facts.failure === 'bad_response') {
    if (status < 200 || status >= 300) {
      const where = facts.location ? ` (redirects to ${facts.location})` : '';
      return `unexpected ${status} from ${ctx.url}${where} — check upstream.base_url`;
    }
    const reason = facts.reason ? ` (${facts.reason})` : '';
    return `${status} from ${ctx.url} with an unusable body${reason} — check that upstream.api (${ctx.api}) matches the endpoint`;
  }
  // Auth errors often quote part of the key back, so their bodies are never repeated.
  const message = facts.failure !== 'auth' && facts.info?.message ? ` (${facts.info.message})` : '';
  return `${status} from ${ctx.url}${message}${tries} — ${statusAdvice(ctx, facts, status)}`;
}

/**
 * The reason on one short line without control characters: it may quote the upstream (a 200 whose body or stream
 * carries an error message), and is printed, journaled and reported, as the error bodies' messages are (classify.ts).
 */
export function withShortReason<F extends { reason?: string }>(facts: F): F {
  return facts.reason === undefined ? facts : { ...facts, reason: shorten(facts.reason) };
}

export function describeFailure(ctx: DescribeContext, facts: FailureFacts, secrets: readonly (string | undefined)[]): string {
  return redact(`${ctx.arm} arm: ${describeBody(ctx, facts)}`, secrets);
}
