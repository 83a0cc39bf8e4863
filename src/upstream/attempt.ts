// One chat attempt: send, read (collected or streamed), and turn what came back into a reply or a failure.
import type { Dispatcher } from 'undici';
import { classifyStatus, header, parseErrorBody, type HeaderMap } from './classify.js';
import type { FailureFacts } from './describe.js';
import type { Dialect, DialectReply } from './dialect.js';
import { eventTooLong, MAX_ANSWER_BYTES, textCapped } from './answer-limit.js';
import { exchange, type ExchangeLimits, type ExchangeRequest } from './http.js';
import { parseJson } from './shape.js';
import { SseParser } from './sse-parser.js';

export type AttemptOutcome =
  | { ok: true; status: number; headers: HeaderMap; reply: DialectReply; endedAt: number; firstTokenAt?: number }
  | ({ ok: false; headers?: HeaderMap; firstTokenAt?: number } & FailureFacts);

/** A non-2xx answer, classified from its status and error body. */
export function statusFailure(status: number, headers: HeaderMap, text: string): AttemptOutcome {
  const info = parseErrorBody(text);
  return { ok: false, failure: classifyStatus(status, info), status, headers, info, location: header(headers, 'location') };
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

async function collected(dispatcher: Dispatcher, dialect: Dialect, request: ExchangeRequest, limits: ExchangeLimits): Promise<AttemptOutcome> {
  const result = await exchange(dispatcher, request, limits);
  if (!result.ok) return result;
  const { status, headers, text } = result;
  if (!isSuccess(status)) return statusFailure(status, headers, text);
  const json = parseJson(text);
  if (!json.ok) return { ok: false, failure: 'bad_response', status, headers, reason: 'the body is not JSON' };
  const parsed = dialect.parse(json.value);
  if (!parsed.ok) return { ok: false, failure: 'bad_response', status, headers, reason: parsed.reason };
  return { ok: true, status, headers, reply: parsed.reply, endedAt: result.endedAt };
}

async function streamed(dispatcher: Dispatcher, dialect: Dialect, request: ExchangeRequest, limits: ExchangeLimits): Promise<AttemptOutcome> {
  const reader = textCapped(dialect.streamReader(), MAX_ANSWER_BYTES);
  let done = false;
  let streamError: string | undefined;
  let firstTokenAt: number | undefined;
  const parser = new SseParser(
    {
      onEvent(event) {
        if (done || streamError !== undefined) return;
        const step = reader.event(event);
        if ((step.delta || step.output) && firstTokenAt === undefined) firstTokenAt = limits.steadyNow();
        if (step.error !== undefined) streamError = step.error;
        if (step.done) done = true;
      },
      onTooLong: (bound) => (streamError ??= eventTooLong(bound)),
    },
    MAX_ANSWER_BYTES,
  );
  const result = await exchange(dispatcher, request, {
    ...limits,
    onText(text) {
      parser.feed(text);
      return done || streamError !== undefined;
    },
  });
  // A stream that failed after its first token did have one: ttft_p95 counts the failure by it.
  if (!result.ok) return firstTokenAt === undefined ? result : { ...result, firstTokenAt };
  const { status, headers } = result;
  if (!isSuccess(status)) return statusFailure(status, headers, result.text);
  // A last event the server did not close with a blank line is still read.
  if (!done && streamError === undefined) parser.end();
  if (streamError !== undefined) return { ok: false, failure: 'bad_response', status, headers, reason: streamError, firstTokenAt };
  const parsed = reader.finish();
  if (!parsed.ok) {
    // An endpoint that ignored stream: true is a likelier story than a cut-off stream; say so.
    const type = header(headers, 'content-type');
    const reason = type && !type.includes('event-stream') ? `asked for a stream, got ${type}` : parsed.reason;
    return { ok: false, failure: 'bad_response', status, headers, reason, firstTokenAt };
  }
  return { ok: true, status, headers, reply: parsed.reply, endedAt: result.endedAt, firstTokenAt };
}

export function chatAttempt(
  dispatcher: Dispatcher,
  dialect: Dialect,
  request: ExchangeRequest,
  stream: boolean,
  limits: ExchangeLimits,
): Promise<AttemptOutcome> {
  return stream ? streamed(dispatcher, dialect, request, limits) : collected(dispatcher, dialect, request, limits);
}
