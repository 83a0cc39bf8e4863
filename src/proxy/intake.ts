// The proxy's request intake: the client key and max_concurrency before anything is read, then a POST's body
// within its size and time limits (answering `Expect: 100-continue` only once the request is accepted), handed to
// its handler (the chat pipeline, a relay); and a model list, an upstream request counted like a chat.
import { formatDuration } from '../core/format.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OPEN_CHECK, type KeyCheck } from './auth.js';
import { BodyBudget, BodyTimerCheck, readBodyThen } from './body.js';
import { CLOSE, discardRest } from './discard.js';
import type { ProxyLimitsResolved } from './config.js';
import type { ConnectionCap } from './connection-cap.js';
import type { InFlight } from './in-flight.js';
import type { InboundDialect } from './inbound.js';
import type { ProxyMetrics } from './metrics.js';
import { forwardModels } from './models.js';
import { repeatedHeader } from './repeated-header.js';
import { cutIfNotTaken, sendError } from './respond.js';
import type { Targets } from './targets.js';

/** Serves a POST once its body is read; `done` when the answer is given, `bug` for an error of the proxy's own. */
export type BodyHandler = (req: IncomingMessage, res: ServerResponse, raw: Buffer, done: () => void, bug: (error: unknown) => void) => void;

export interface IntakeDeps {
  inbound: InboundDialect;
  keyCheck: KeyCheck;
  metrics: ProxyMetrics;
  inFlight: InFlight;
  limits: ProxyLimitsResolved;
  targets: Targets;
  /** With client keys: the connection cap, told which connections carried one (they keep their places). */
  connections?: ConnectionCap;
  /** Blue's model and its aliases, the names split (ProxySettings.splitModels): blue's model first. */
  splitModels: ReadonlySet<string>;
}

export interface Intake {
  servePost(req: IncomingMessage, res: ServerResponse, failed: (error: unknown) => void, handler: BodyHandler): void;
  /** GET /v1/models, or with `id` GET /v1/models/{id}. */
  serveModels(req: IncomingMessage, res: ServerResponse, id?: string): Promise<void>;
  /** Requests that sent `Expect: 100-continue` and are not told to go on yet (Node's checkContinue adds them). */
  awaitingContinue: WeakSet<IncomingMessage>;
  /**
   * The headers for a refused request's answer: the rest of its body is discarded (src/proxy/discard.ts), or the
   * connection closes when the client waits for `100 Continue` (it sends no body) or declared too much to wait for.
   */
  unreadBody(req: IncomingMessage): Readonly<{ connection?: string }>;
}

/**
 * A request body's coding the proxy does not decode, as its header says it (content-encoding other than identity,
 * transfer-encoding other than chunked), if any. A gzip body used to be refused as "not UTF-8", and one labelled br
 * that happened to be plain JSON was read (and sent) as plain.
 */
export function bodyEncoding(req: IncomingMessage): string | undefined {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && !/^\s*(identity\s*)?$/i.test(encoding)) return `content-encoding: ${encoding}`;
  // Node's parser takes `gzip, chunked` for plain chunked and would hand over the still-compressed bytes.
  const transfer = req.headers['transfer-encoding'];
  if (transfer !== undefined && !/^\s*chunked\s*$/i.test(transfer)) return `transfer-encoding: ${transfer}`;
  return undefined;
}

/**
 * Why `check` refuses the client key a request presents (`missing`: none, or a wrong one), else undefined. A header
 * carrying the key may come once only: Node keeps the first Authorization, so a right key then a wrong one passed;
 * and two headers that may carry it (Anthropic's x-api-key and Authorization) must not carry different keys.
 * Without client keys nothing is read (a scan of the headers per request on the hot path).
 */
export function keyRefusal(
  inbound: InboundDialect,
  check: KeyCheck,
  req: IncomingMessage,
  missing: string,
  connections: ConnectionCap | undefined,
): string | undefined {
  if (check === OPEN_CHECK) return undefined;
  const repeated = repeatedHeader(req.rawHeaders, inbound.keyHeaders);
  if (repeated !== undefined) return `the request carries more than one ${repeated} header; send the client key once`;
  const conflict = inbound.keyConflict?.(req.headers);
  if (conflict !== undefined) return conflict;
  if (!check(inbound.clientKey(req.headers))) return missing;
  connections?.vouch(req.socket);
  return undefined;
}

export function createIntake({ inbound, keyCheck, metrics, inFlight, limits, targets, connections, splitModels }: IntakeDeps): Intake {
  const [blueModel] = splitModels;
  const awaitingContinue = new WeakSet<IncomingMessage>();
  const bodyTimers = new BodyTimerCheck();
  // Bodies on their way hold at most what max_concurrency bodies would (the bound before they were read outside it).
  const bodyBudget = new BodyBudget(limits.maxConcurrency * limits.maxBodyBytes);
  const unreadBody = (req: IncomingMessage): Readonly<{ connection?: string }> =>
    awaitingContinue.has(req) ? CLOSE : discardRest(req, limits.maxBodyBytes, limits.bodyTimeoutMs);

  /** A POST whose JSON body is read (chat, or a relayed path), then handed to `handler`. */
  function servePost(req: IncomingMessage, res: ServerResponse, failed: (error: unknown) => void, handler: BodyHandler): void {
    const refused = keyRefusal(
      inbound,
      keyCheck,
      req,
      'missing or invalid API key for this proxy: present one of the client keys the operator configured',
      connections,
    );
    if (refused !== undefined) {
      metrics.reject('unauthorized');
      req.resume();
      return sendError(res, inbound, 'unauthorized', refused, unreadBody(req));
    }
    if (overloaded(req, res)) return;
    // The body is read outside max_concurrency: clients trickling bodies cannot fill the places of requests
    // served. Their memory is bounded by bodyBudget (max_concurrency x max_body_bytes): past it, 503.
    // Counted in flight all the same: a drain waits for it and closes its connection after the answer.
    const slot = inFlight.enterReading(res);
    let unread = true;
    let over = false;
    const bodyRead = (): void => {
      if (!unread) return;
      unread = false;
      inFlight.bodyRead();
    };
    const end = (): void => {
      if (over) return;
      over = true;
      bodyRead();
      inFlight.leave(slot);
      cutIfNotTaken(res, limits.bodyTimeoutMs);
    };
    // `Expect: 100-continue` is answered only now: a request refused above, or too large by its content-length,
    // is answered without the client ever sending its body.
    const reading = awaitingContinue.has(req)
      ? () => {
          awaitingContinue.delete(req);
          res.writeContinue();
        }
      : undefined;
    readBodyThen(
      req,
      limits.maxBodyBytes,
      limits.bodyTimeoutMs,
      (read) => {
        try {
          if (!read.ok) {
            end();
            // Its connection answered already (a body Node's parser could not read: respond.ts answerClientError)
            // and lingering: counted and answered once.
            if (read.reason === 'aborted' || req.socket.writableEnded) return;
            // The rest of its body is not read: the connection closes after the answer.
            if (read.reason === 'overloaded') return refuseOverloaded(res, CLOSE, 'bodies');
            metrics.reject(read.reason === 'too_large' ? 'too_large' : 'timeout');
            const message =
              read.reason === 'too_large'
                ? `the request body is larger than ${limits.maxBodyBytes} bytes (the proxy's limit, proxy.limits.max_body_bytes)`
                : `the request body did not arrive within ${formatDuration(limits.bodyTimeoutMs)} (the proxy's limit, proxy.limits.body_timeout)`;
            // Too large: the rest is discarded (bounded). Too slow: the connection closes after the answer.
            sendError(res, inbound, read.reason === 'too_large' ? 'too_large' : 'slow_client', message, read.reason === 'too_large' ? unreadBody(req) : CLOSE);
            return;
          }
          bodyRead();
          // Served from here: past max_concurrency (others' bodies arrived meanwhile), refused as at the start.
          if (inFlight.serving > limits.maxConcurrency) {
            end();
            refuseOverloaded(res);
            return;
          }
          handler(req, res, read.body, end, (error) => {
            end();
            failed(error);
          });
        } catch (error) {
          end();
          failed(error);
        }
      },
      reading,
      bodyTimers,
      bodyBudget,
    );
  }

  /** Past max_concurrency: answered 503 with retry-after, and true. */
  function overloaded(req: IncomingMessage, res: ServerResponse): boolean {
    if (inFlight.serving < limits.maxConcurrency) return false;
    req.resume();
    refuseOverloaded(res, unreadBody(req));
    return true;
  }

  function refuseOverloaded(res: ServerResponse, unread: Readonly<{ connection?: string }> = {}, full: 'places' | 'bodies' = 'places'): void {
    metrics.reject('overloaded');
    sendError(
      res,
      inbound,
      'overloaded',
      full === 'places'
        ? `the proxy is already serving its limit of ${limits.maxConcurrency} requests at once (proxy.limits.max_concurrency); retry shortly`
        : `the proxy already holds its limit of request bodies on their way (proxy.limits.max_concurrency x max_body_bytes bytes); retry shortly`,
      { 'retry-after': '1', ...unread },
    );
  }

  // A model list is an upstream request with the operator's key: it counts against max_concurrency like a chat.
  async function serveModels(req: IncomingMessage, res: ServerResponse, id?: string): Promise<void> {
    const refused = keyRefusal(inbound, keyCheck, req, 'missing or invalid API key for this proxy', connections);
    if (refused !== undefined) {
      metrics.reject('unauthorized');
      return sendError(res, inbound, 'unauthorized', refused);
    }
    if (overloaded(req, res)) return;
    const slot = inFlight.enter(res);
    try {
      // An alias is blue's model by another name: blue's upstream may know no model so called.
      const upstreamId = id !== undefined && splitModels.has(id) && blueModel !== undefined ? blueModel : id;
      await forwardModels(targets, res, inbound, id === undefined || upstreamId === undefined ? undefined : { id, upstreamId });
    } finally {
      inFlight.leave(slot);
    }
  }

  return { servePost, serveModels, awaitingContinue, unreadBody };
}
