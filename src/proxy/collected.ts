// What an answer collected whole means (an error answer, a non-streamed body, a JSON answer to a streamed
// request): the arm's failure before anything is sent, and the reply read from a 2xx body (after it is sent,
// when no fallback can replace it). The handler that collects it is src/proxy/forwarding.ts.
import { statusFailure } from '../upstream/attempt.js';
import { header, type HeaderMap } from '../upstream/classify.js';
import type { AnswerReader, ParseOutcome } from '../upstream/dialect.js';
import { parseJson } from '../upstream/shape.js';
import type { ForwardFailure } from './forward-result.js';

/** Why a collected answer is the arm's failure whatever its body says, if it is. */
export function collectedFailure(status: number, headers: HeaderMap, body: Buffer, streamAsked: boolean): ForwardFailure | undefined {
  if (status < 200 || status >= 300) return statusFailure(status, headers, body.toString('utf8')) as ForwardFailure;
  // The client asked for a stream and cannot read this answer as one (SDKs fail on it): the arm's failure.
  if (streamAsked)
    return { failure: 'bad_response', status, reason: `answered a streamed request with ${header(headers, 'content-type') ?? 'JSON'}, not an event stream` };
  return undefined;
}

/**
 * The reply a 2xx body's text (answerText) holds, read by the path's `answers` when it is spelled like an earlier
 * answer, else by its `parse` (and then learnt from); or why it holds none.
 */
export function readCollected(text: string, parse: (json: unknown) => ParseOutcome, answers?: AnswerReader): ParseOutcome {
  const known = answers?.read(text);
  if (known !== undefined) return { ok: true, reply: known };
  const json = parseJson(text);
  if (!json.ok) return { ok: false, reason: 'the body is not JSON' };
  const parsed = parse(json.value);
  if (parsed.ok) answers?.learn(text, json.value, parsed.reply);
  return parsed;
}

/** Why an answer read whole failed as too large. */
export function tooLargeReason(maxBytes: number): string {
  return `the answer is larger than ${maxBytes} bytes, proxy.limits.max_response_bytes`;
}
