// One request forwarded to one arm's upstream over undici's dispatch API (the handler: forwarding.ts). A streamed
// 2xx answer goes to the client chunk by chunk as it arrives, and is read on the way for time to first token,
// tokens, finish reason and content. Anything else (an error answer, a non-streamed body) is collected whole and
// handed back unsent, so the caller can still fall back to blue or send it as it is.
import type { ClientLink } from './client-link.js';
import type { ClientSink, ForwardOutcome, ForwardRequest, ForwardTarget } from './forward-types.js';
import { Forwarding } from './forwarding.js';

/** Rejects only when `canceller` cancels it (the client went away, the proxy shuts down), with its reason. */
export function forward(
  target: ForwardTarget,
  request: ForwardRequest,
  sink: ClientSink | undefined,
  now: () => number,
  canceller?: AbortSignal | ClientLink,
): Promise<ForwardOutcome> {
  return new Promise((resolve, reject) => forwardTo(target, request, sink, now, canceller, resolve, reject));
}

/** forward() without a promise, for the proxy's hot path: `done`, or `failed` when `canceller` cancels it. */
export function forwardTo(
  target: ForwardTarget,
  request: ForwardRequest,
  sink: ClientSink | undefined,
  now: () => number,
  canceller: AbortSignal | ClientLink | undefined,
  done: (outcome: ForwardOutcome) => void,
  failed: (reason: unknown) => void,
): void {
  const forwarding = new Forwarding(target, request, sink, now, canceller);
  // The content type and accept are the proxy's; the target's headers last: the application can never
  // override the upstream key.
  const headers: Record<string, string> = Object.assign({}, request.headers, request.stream ? STREAM_HEADERS : JSON_HEADERS, target.headers);
  forwarding.start(
    target.dispatcher,
    { origin: target.origin, method: request.method ?? 'POST', path: request.path ?? target.chatPath, headers, body: request.body },
    done,
    failed,
  );
}

const STREAM_HEADERS = { 'content-type': 'application/json', accept: 'text/event-stream' };
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };
