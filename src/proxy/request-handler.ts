// What answers one HTTP request to the proxy, by its path and method: only the dialect's paths (no open relay).
// A POST with a plain JSON body goes through the request intake (intake.ts: client key, size, time and concurrency
// limits) to a split path (chat, responses) or a relay (post-paths.ts); the Responses API's stored state is read
// on the arm holding it; plus GET /v1/models (and /v1/models/{id}), GET /metrics and GET|HEAD /healthz. Anything else, and an error of
// the proxy's own, is answered in the dialect's error shape. Starting and stopping the proxy is server.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorText } from '../core/errors.js';
import type { KeyCheck } from './auth.js';
import { createBrowserGuard } from './browser-guard.js';
import type { ConnectionCap } from './connection-cap.js';
import { CLOSE } from './discard.js';
import { faultyFraming } from './framing.js';
import type { InFlight } from './in-flight.js';
import type { InboundDialect } from './inbound.js';
import { bodyEncoding, keyRefusal, type BodyHandler, type Intake } from './intake.js';
import type { ProxyMetrics } from './metrics.js';
import type { PostPaths } from './post-paths.js';
import type { PrometheusExport } from './prometheus.js';
import { repeatedHeader } from './repeated-header.js';
import { passHeaders, sendBody, sendError } from './respond.js';
import type { RouteHolder } from './route-holder.js';
import { pathHint } from './path-hint.js';

export interface RequestHandlerDeps {
  inbound: InboundDialect;
  intake: Intake;
  posts: PostPaths;
  metrics: ProxyMetrics;
  prometheus: PrometheusExport;
  route: RouteHolder;
  inFlight: InFlight;
  /** What GET /metrics asks of its Bearer token (a client key, or the admin token), when the proxy has client keys. */
  metricsCheck: KeyCheck;
  /** With client keys: told which connections carried one (intake.ts). */
  connections?: ConnectionCap;
  /** No client keys: anything that reaches the port is trusted, so web pages in a browser are kept out. */
  keyless: boolean;
  /** The proxy is draining (server.ts drain()): answers end their connections, /healthz says 503. */
  draining: () => boolean;
  /** Operator notices: an internal error, by the request's path only. */
  log?: (message: string) => void;
}

const HOST = ['host'];
/** GET /v1/models/{id}: one model (the SDKs' models.retrieve). */
const MODEL_PATH = '/v1/models/';

function decodedSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** The stack overflow of re-serialising a body nested thousands of levels deep. */
function nestsTooDeep(error: unknown): boolean {
  return error instanceof RangeError && error.message.includes('call stack');
}

/** The server's request listener (Node's checkContinue listener calls it too). */
export function createRequestHandler(deps: RequestHandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { inbound, intake, posts, metrics, prometheus, route, inFlight, metricsCheck, connections, keyless, draining, log } = deps;
  const browserRefusal = keyless ? createBrowserGuard() : undefined;

  /** A request with a body (read, plain JSON only) for `handler`. */
  function withBody(req: IncomingMessage, res: ServerResponse, failed: (error: unknown) => void, handler: BodyHandler): void {
    const encoding = bodyEncoding(req);
    if (encoding === undefined) return intake.servePost(req, res, failed, handler);
    req.resume();
    metrics.reject('bad_request');
    const message = `the request body is sent with ${encoding}; this proxy reads plain JSON bodies only: send it uncompressed`;
    return sendError(res, inbound, 'bad_request', message, intake.unreadBody(req));
  }

  function serve(req: IncomingMessage, res: ServerResponse, failed: (error: unknown) => void): Promise<void> | void {
    const url = req.url ?? '/';
    // The path before any query, without an array and a string a request when there is none.
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    const method = req.method ?? 'GET';
    // HTTP/1.1 requires Host (RFC 9112 3.2): refused as Node would (server.ts turns its own bare 400 off).
    if (req.headers.host === undefined && req.httpVersion === '1.1') {
      req.resume();
      metrics.reject('bad_request');
      return sendError(res, inbound, 'bad_request', 'an HTTP/1.1 request needs a Host header', CLOSE);
    }
    const faulty = faultyFraming(req);
    if (faulty !== undefined) {
      req.resume();
      metrics.reject('bad_request');
      return sendError(res, inbound, 'bad_request', faulty, CLOSE);
    }
    // And one only (RFC 9112 3.2): Node keeps the first, which the browser guard would check while another hop read the last.
    if (repeatedHeader(req.rawHeaders, HOST) !== undefined) {
      req.resume();
      metrics.reject('bad_request');
      return sendError(res, inbound, 'bad_request', 'the request carries more than one Host header; send one', CLOSE);
    }
    const refusal = browserRefusal?.(req.headers);
    if (refusal !== undefined) {
      req.resume();
      metrics.reject('unauthorized');
      return sendError(res, inbound, 'forbidden', refusal, intake.unreadBody(req));
    }
    // Chat first, by one comparison: the hot path.
    const post = path === inbound.chatPath ? posts.chat : posts.others.get(path);
    // The Responses API's stored state, read on the arm holding it (stored-reads.ts).
    const stored = post ? undefined : posts.stored(path);
    if (post) {
      if (method === 'POST') return withBody(req, res, failed, post);
    } else if (stored) {
      if ((stored.allow as readonly string[]).includes(method)) return withBody(req, res, failed, stored.handler);
    } else if (path === '/v1/models') {
      if (method === 'GET') return intake.serveModels(req, res);
    } else if (path.startsWith(MODEL_PATH) && path.length > MODEL_PATH.length) {
      // The SDKs encode the id as one path segment ("openai%2Fgpt-4o"); one that does not decode names no model.
      const id = decodedSegment(path.slice(MODEL_PATH.length));
      if (id === undefined) {
        req.resume();
        metrics.reject('not_found');
        return sendError(res, inbound, 'model_not_found', `the model id in ${path} is not validly percent-encoded`, intake.unreadBody(req));
      }
      if (method === 'GET') return intake.serveModels(req, res, id);
    } else if (path === '/metrics') {
      if (method === 'GET') {
        const refused = keyRefusal(inbound, metricsCheck, req, 'GET /metrics needs a client key (or the admin token) as a Bearer token', connections);
        if (refused !== undefined) {
          metrics.reject('unauthorized');
          return sendError(res, inbound, 'unauthorized', refused);
        }
        return prometheus.text().then((text) => sendBody(res, 200, { 'content-type': prometheus.contentType }, text));
      }
    } else if (path === '/healthz') {
      // HEAD too: some load balancers probe with it (Node sends the headers only).
      if (method === 'GET' || method === 'HEAD') {
        // The weights in force only: this answer is open to probes, so the plan, models and reasons stay out of it.
        // A draining proxy says 503, so a load balancer probing it over a kept-alive connection stops sending to it.
        const { greenWeight, mirror } = route.effective();
        const stopping = draining();
        const body = JSON.stringify({ ok: !stopping, ...(stopping && { draining: true }), route: { greenWeight, mirror }, inFlight: inFlight.size });
        return sendBody(res, stopping ? 503 : 200, { 'content-type': 'application/json' }, body);
      }
    } else {
      req.resume();
      metrics.reject('not_found');
      const hint = pathHint(inbound, path);
      const message = posts.unserved(path) ?? `this proxy serves ${posts.served}, not ${method} ${path}${hint === undefined ? '' : `: ${hint}`}`;
      return sendError(res, inbound, 'not_found', message, intake.unreadBody(req));
    }
    req.resume();
    metrics.reject('bad_request');
    return sendError(res, inbound, 'method', `${method} is not allowed on ${path}`, {
      allow: post ? 'POST' : stored ? stored.allow.join(', ') : path === '/healthz' ? 'GET, HEAD' : 'GET',
      ...intake.unreadBody(req),
    });
  }

  return (req: IncomingMessage, res: ServerResponse): void => {
    const failed = (error: unknown): void => {
      if (nestsTooDeep(error) && !res.headersSent) {
        // JSON.parse reads any depth, but re-serialising the body for an arm (or a mirror copy) recurses: the
        // request's fault, not the proxy's, and no reason for a log line per request.
        metrics.reject('bad_request');
        return sendError(res, inbound, 'bad_request', 'the request body nests too deeply (thousands of levels) to be sent on', intake.unreadBody(req));
      }
      // The path only: a query string may carry a key (`?api_key=`), which the proxy never reads but a log would keep.
      log?.(`internal error serving ${req.method ?? ''} ${(req.url ?? '').split('?', 1)[0] ?? ''}: ${errorText(error)}`);
      if (!res.headersSent) sendError(res, inbound, 'unavailable', 'the proxy failed to serve this request', passHeaders({}, undefined));
      else res.destroy();
    };
    // While draining, each answer ends its connection: the client's next request goes to another proxy.
    if (draining()) res.setHeader('connection', 'close');
    try {
      serve(req, res, failed)?.catch(failed);
    } catch (error) {
      failed(error);
    }
  };
}
