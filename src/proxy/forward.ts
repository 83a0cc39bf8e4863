// One request forwarded to one arm's upstream over undici's dispatch API (the handler: forwarding.ts). A streamed
// 2xx answer goes to the client chunk by chunk as it arrives, and is read on the way for time to first token,
// tokens, finish reason and content. Anything else (an error answer, a non-streamed body) is collected whole and
// handed back unsent, so the caller can still fall back to blue or send it as it is.
import type { SignalWatch } from '../upstream/signal-watch.js';
import type { ClientLink } from './client-link.js';
import type { ClientSink, ForwardOutcome, ForwardRequest, ForwardTarget } from './forward-types.js';
import { Forwarding } from './forwarding.js';
import { NO_HEADERS } from './respond.js';

/** Rejects only when `canceller` cancels it (the client went away, the proxy shuts down), with its reason. */
export function forward(
  target: ForwardTarget,
  request: ForwardRequest,
  sink: ClientSink | undefined,
  steadyNow: () => number,
  canceller?: SignalWatch | ClientLink,
): Promise<ForwardOutcome> {
  return new Promise((resolve, reject) => forwardTo(target, request, sink, steadyNow, canceller, resolve, reject));
}

/** forward() without a promise, for the proxy's hot path: `done`, or `failed` when `canceller` cancels it. */
export function forwardTo(
  target: ForwardTarget,
  request: ForwardRequest,
  sink: ClientSink | undefined,
  steadyNow: () => number,
  canceller: SignalWatch | ClientLink | undefined,
  done: (outcome: ForwardOutcome) => void,
  failed: (reason: unknown) => void,
): void {
  const forwarding = new Forwarding(target, request, sink, steadyNow, canceller);
  // The application's headers first, then the proxy's and the target's (ForwardTarget.requestHeaders): the
  // application can never override the upstream key. Most requests pass none: the target's object itself to a pool,
  // a copy to a forward proxy's agent (it adds `host` to the object it is given).
  const own = request.stream ? target.requestHeaders.stream : target.requestHeaders.json;
  const headers = request.headers !== NO_HEADERS ? Object.assign({}, request.headers, own) : target.headersKept ? own : { ...own };
  forwarding.start(
    target.dispatcher,
    { origin: target.origin, method: request.method ?? 'POST', path: request.path ?? target.chatPath, headers, body: request.body },
    done,
    failed,
  );
}
