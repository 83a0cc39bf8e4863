// The admin API a rollout drives the proxy through: read and set the route (under a lease), read the per-arm
// figures. Its own listener (loopback by default), every call carrying the plan's admin token.
//   GET  /admin/route    -> { route, effective, now, serves, unsaved? }
//   PUT  /admin/route    <- { greenWeight, mirror, ttlMs?, promotedArm?, reason?, stage?, rollout?, controller?, by?, resumes?, goingOn?, ended?, ifRevision?, ifUpdatedAt? }
//                        -> 200 { route, effective, now, … } | 409 { error, code?, goOnFrom? } | 500 { error, inForce, … }
//   GET  /admin/figures  -> { stage: ProxyFigures (since the stage began), lifetime: ProxyFigures }
//   GET  /admin/results?after=SEQ&epoch=E&inFlightUpTo=N -> { next, missed, head, epoch, version, results: FeedEntry[], inFlight }
//        (see results-feed.ts; inFlight: the attempts under way per stage tag, metrics.ts InFlightByStage)
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ConnectionCap } from './connection-cap.js';
import { createKeyCheck } from './auth.js';
import { createBrowserGuard, type GuardWords } from './browser-guard.js';
import { isLoopback } from './config.js';
import { listen } from './listen.js';
import { readBody } from './body.js';
import { faultyFraming } from './framing.js';
import { repeatedHeader } from './repeated-header.js';
import { answerClientError } from './respond.js';
import type { ProxyMetrics } from './metrics.js';
import { describeRoute, MAX_ROUTE_REASON, UNSAVED_FIX, type EffectiveRoute, type Route } from './route.js';
import type { RouteHolder } from './route-holder.js';
import { MAX_LEASE_MS } from './route-lease.js';
import { otherRunsClaim } from './route-claims.js';
import { FEED_VERSION, type ResultsFeed } from './results-feed.js';
import { errorText } from '../core/errors.js';
import { oneLine } from '../core/format.js';
import { isEpochMs, MAX_TIME_MS } from '../core/clock.js';

export interface AdminOptions {
  host: string;
  port: number;
  token: string;
  /** routeOwner() of the proxy's plan: a route set for another plan or other models is refused. */
  owner?: string;
  /** qualityRulesKey() of the proxy's plan: a rollout judging by other quality rules is refused (it would judge by these). */
  quality?: string;
  /** The proxy's proxy.fallback, reported: a rollout whose plan promises fallback to blue checks it is there. */
  fallback?: boolean;
  route: RouteHolder;
  metrics: ProxyMetrics;
  /** Every recorded result, for GET /admin/results. */
  feed?: ResultsFeed;
  /** Before each read of the feed (a stopped proxy's handed-over results join it). */
  beforeResults?: () => void;
  /**
   * The latest an upstream request begun now fails on a timeout if it stalls (the longer arm's timeout.request, to a
   * stream's first bytes, plus its timeout.idle after them): a stage's end waits no longer.
   */
  stallTimeoutMs?: number;
  /**
   * The latest an upstream request begun now ends, whatever it does: the longer arm's timeout.request (a whole
   * answer, or a stream's first bytes) plus proxy.limits.max_stream_duration (a stream after them, cut there as a
   * failure). The last stage's end waits no longer before the promotion.
   */
  longestMs?: number;
  now: () => number;
  log?: (message: string) => void;
  /**
   * Every secret the proxy knows cut out of a route's `reason` and `by` as they come in: both are answered back, kept
   * in proxy-route.json and printed (the proxy's log, `status`), and a caller's text may quote a key.
   */
  redact?: (text: string) => string;
}

export interface AdminHandle {
  url: string;
  close(): Promise<void>;
}

export { MAX_LEASE_MS } from './route-lease.js';

/**
 * Admin connections open at once; past it the oldest that has not shown the token is closed (connection-cap.ts),
 * or the new one when all have. A rollout holds at most 4 per proxy. Without a cap, anyone reaching the admin port
 * (no token needed to connect) could hold connections until the process runs out of file descriptors, and then the
 * proxy's own port and its upstream connections fail too.
 */
export const MAX_ADMIN_CONNECTIONS = 64;

/**
 * The time a connection has for its request headers: every call bluegreen makes gives up after 2 s at most
 * (AdminClient), so a connection slower than that holds a place for nobody. It was 10 s.
 */
const ADMIN_HEADERS_TIMEOUT_MS = 2_000;

function json(res: ServerResponse, status: number, body: unknown, close = false): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...(close && { connection: 'close' }) });
  res.end(text);
}

const AUTHORIZATION = ['authorization'];
const HOST = ['host'];

function bearer(req: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  return match?.[1]?.trim();
}

const isShare = (value: unknown): value is number => typeof value === 'number' && value >= 0 && value <= 1;

/**
 * A query parameter that is a whole number: undefined when absent, or why it is not one. An empty value is not 0
 * (`Number('')` is): `?inFlightUpTo=` counted no attempt under way, and a stage's end stopped waiting at once.
 */
function wholeNumber(query: URLSearchParams, name: string): number | string | undefined {
  const text = query.get(name);
  if (text === null) return undefined;
  // Decimal digits only: Number() also takes '0x10', '0b1', '1e3' and ' 5 ' (hostile29). A safe integer: 1e308 is
  // "whole" too, and no sequence number comes near it.
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  return Number.isSafeInteger(value) && value >= 0 ? value : `${name} must be a whole number of 0 or more (at most ${Number.MAX_SAFE_INTEGER})`;
}

export interface RouteRequest {
  route: Omit<Route, 'updatedAt'>;
  /** The controller's stage number: figures restart when it changes. */
  stage?: number;
  /** routeOwner() of the rollout's plan, when it says: only a proxy of the same plan and models takes the route. */
  rollout?: string;
  /** qualityRulesKey() of the rollout's plan, when it says: only a proxy checking answers by the same rules takes the route. */
  quality?: string;
  /** The rollout's plan promises fallback to blue (its proxy.fallback): a proxy serving without it refuses the route. */
  fallback?: true;
  /**
   * The controller goes on from its own route (a renewal, the next stage; route.controller names it): refused if
   * someone else set one since.
   */
  goingOn?: boolean;
  /** `rollout --resume`: the controller ids of the dead runs this run goes on from (their routes are its own). */
  resumes?: string[];
  /** Only over the route of this revision (the `revision` the caller read): refused (409) if another was set since. */
  ifRevision?: number;
  /**
   * Only over the route set at this time (the `updatedAt` the caller read): refused (409) if another was set since.
   * Sent alone by callers from before session 18 (two routes set in the same ms share it); with ifRevision, both must match.
   */
  ifUpdatedAt?: number;
}

/** Runs a resumed rollout names at most (resume-record.ts keeps as many), and the longest controller id taken. */
const MAX_RESUMES = 16;
const MAX_ID = 100;
/**
 * A rollout run's id (a UUID from the fleet): printed in refusals to another rollout and by `status`, and compared
 * whole, so it is refused, not cleaned as `reason` and `by` are, when it holds spaces, escapes or other controls.
 */
const isRunId = (id: unknown): id is string => typeof id === 'string' && id.length <= MAX_ID && /^[!-~]+$/.test(id);
/**
 * The highest stage number taken: a plan (1 MiB at most) has far fewer stages, one past its last included. A number
 * past it (1e308) is a caller's bug: refused, not kept as a stage tag the results feed cannot store.
 */
export const MAX_STAGE = 1_000_000;

/** The route a PUT asks for, or why it is not one. */
export function routeRequest(body: unknown, now: number, redact: (text: string) => string = (text) => text): RouteRequest | string {
  // A list is an object too: its answer named greenWeight, as if a field were wrong rather than the shape.
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'expected a JSON object';
  const b = body as Record<string, unknown>;
  if (!isShare(b.greenWeight)) return 'greenWeight must be a number from 0 to 1';
  if (!isShare(b.mirror)) return 'mirror must be a number from 0 to 1';
  const route: Omit<Route, 'updatedAt'> = { greenWeight: b.greenWeight, mirror: b.mirror };
  if (b.promotedArm !== undefined) {
    if (b.promotedArm !== 'blue' && b.promotedArm !== 'green') return 'promotedArm must be "blue" or "green"';
    route.promotedArm = b.promotedArm;
  }
  if (b.ttlMs !== undefined) {
    if (typeof b.ttlMs !== 'number' || !(b.ttlMs > 0) || b.ttlMs > MAX_LEASE_MS) return `ttlMs must be more than 0 and at most ${MAX_LEASE_MS}`;
    route.leaseExpiresAt = now + b.ttlMs;
  }
  if (route.promotedArm === undefined && (route.greenWeight > 0 || route.mirror > 0) && route.leaseExpiresAt === undefined) {
    return 'a greenWeight or mirror above 0 needs ttlMs (the lease); renew it before it runs out';
  }
  // Printed in the proxy's log and by `status`: one line without terminal escapes, whoever set it.
  // Redacted before the cut, which could leave too little of a key to be recognised.
  if (typeof b.reason === 'string') route.reason = oneLine(redact(b.reason), MAX_ROUTE_REASON);
  if (b.stage !== undefined && (typeof b.stage !== 'number' || !Number.isInteger(b.stage) || b.stage < 0 || b.stage > MAX_STAGE))
    return `stage must be a whole number from 0 to ${MAX_STAGE} (the rollout's stage number)`;
  if (b.rollout !== undefined && typeof b.rollout !== 'string') return 'rollout must be a string (the plan and models the route is for)';
  if (b.quality !== undefined && typeof b.quality !== 'string') return "quality must be a string (the quality rules the rollout's plan judges answers by)";
  if (b.fallback !== undefined && typeof b.fallback !== 'boolean') return "fallback must be true or false (the rollout's plan's proxy.fallback)";
  if (b.controller !== undefined && !isRunId(b.controller))
    return `controller must be an id of the rollout run (up to ${MAX_ID} printable ASCII characters, no spaces)`;
  // An id is compared, not shown, so one holding a key is refused rather than redacted into another id.
  if (typeof b.controller === 'string' && redact(b.controller) !== b.controller) return 'controller must not hold a key the proxy knows';
  if (typeof b.controller === 'string') route.controller = b.controller;
  if (b.by !== undefined && typeof b.by !== 'string') return 'by must be a string (who runs the rollout, and where)';
  // Printed in refusals to another rollout: one line without terminal escapes, as the reason.
  if (typeof b.by === 'string') route.by = oneLine(redact(b.by), 200);
  const resumes = b.resumes;
  if (resumes !== undefined && (!Array.isArray(resumes) || resumes.length > MAX_RESUMES || !resumes.every(isRunId)))
    return `resumes must be a list of at most ${MAX_RESUMES} controller ids (the dead runs a resumed rollout goes on from)`;
  if (Array.isArray(resumes) && resumes.some((id: string) => redact(id) !== id)) return 'resumes must not hold a key the proxy knows';
  if (b.goingOn !== undefined && (typeof b.goingOn !== 'boolean' || (b.goingOn && route.controller === undefined))) {
    return 'goingOn must be true or false, and true needs controller (whose route it goes on from)';
  }
  if (b.ended !== undefined && (typeof b.ended !== 'boolean' || (b.ended && route.controller === undefined))) {
    return 'ended must be true or false, and true needs controller (whose rollout ended)';
  }
  if (b.ended === true) route.ended = true;
  if (b.ifUpdatedAt !== undefined && !isEpochMs(b.ifUpdatedAt))
    return `ifUpdatedAt must be a number from 0 to ${MAX_TIME_MS} (the route's updatedAt in epoch ms, as GET /admin/route answered it)`;
  if (b.ifRevision !== undefined && (typeof b.ifRevision !== 'number' || !Number.isSafeInteger(b.ifRevision) || b.ifRevision < 0))
    return "ifRevision must be a whole number of 0 or more (the route's revision, as GET /admin/route answered it)";
  return {
    route,
    ...(typeof b.stage === 'number' && { stage: b.stage }),
    ...(typeof b.rollout === 'string' && { rollout: b.rollout }),
    ...(typeof b.quality === 'string' && { quality: b.quality }),
    ...(b.fallback === true && { fallback: true as const }),
    ...(b.goingOn === true && { goingOn: true }),
    ...(Array.isArray(resumes) && resumes.length > 0 && { resumes }),
    ...(typeof b.ifRevision === 'number' && { ifRevision: b.ifRevision }),
    ...(typeof b.ifUpdatedAt === 'number' && { ifUpdatedAt: b.ifUpdatedAt }),
  };
}

/** Why a proxy serving without fallback refuses a rollout whose plan promises it. */
const NO_FALLBACK =
  "this proxy serves without fallback to blue (its plan's proxy.fallback: false), but the rollout's plan has proxy.fallback: true: " +
  "green's failures would reach the application; restart the proxy on the rollout's plan";

/** Why a proxy refuses a rollout judging by other quality rules than its own (both qualityRulesKey()). */
export function qualityMismatch(proxy: string, rollout: string): string {
  return (
    `this proxy checks answers by other quality rules (its plan's analysis.quality: ${oneLine(proxy, 300)}) than the rollout's plan (${oneLine(rollout, 300)}), ` +
    "and the rollout judges the proxy's outcomes: restart the proxy on the rollout's plan"
  );
}

/** Why a refused admin call is refused, and its status: 403 for a web page's request, 401 for the token, 400 for two Hosts. */
interface AdminRefusal {
  status: 400 | 401 | 403;
  error: string;
  /** The connection closes after the answer, even with the body read (framing.ts). */
  close?: true;
}

/**
 * Said to a call outside /admin/: most likely an application (its SDK) given the admin port as its base URL, which
 * "missing or wrong admin token" would send looking for a token it should not have.
 */
const NOT_THE_APPLICATION_PORT =
  "this is a bluegreen proxy's admin API (paths under /admin/, for bluegreen rollout and operators, with the admin token): " +
  "point the application's base URL at the proxy's listen address (proxy.listen), not at its admin one (proxy.admin.listen)";

function isAdminPath(req: IncomingMessage): boolean {
  return (req.url ?? '/').startsWith('/admin/');
}

/** The loopback admin API's Host and Origin guard's words (browser-guard.ts). */
const ADMIN_GUARD: GuardWords = {
  why: 'the admin API listens on loopback',
  remedy: 'call it by 127.0.0.1 or localhost (a TLS terminator forwarding to it: have it send Host: 127.0.0.1), not from a web page',
};

export async function startAdmin(options: AdminOptions): Promise<AdminHandle> {
  const authorised = createKeyCheck([options.token]);
  const connections = new ConnectionCap(MAX_ADMIN_CONNECTIONS);
  // On loopback, a web page in the operator's browser reaches the port too (DNS rebinding names it by the page's
  // own host): refused before its token is even read. Off loopback the names are the operator's to choose.
  const browserRefusal = isLoopback(options.host) ? createBrowserGuard(ADMIN_GUARD) : undefined;
  // A connection that carried the token is kept when room is made for a new one.
  const refusal = (req: IncomingMessage): AdminRefusal | undefined => {
    const faulty = faultyFraming(req);
    if (faulty !== undefined) return { status: 400, error: faulty, close: true };
    // One Host only (RFC 9112 3.2): Node keeps the first, which the guard would check while another hop read the last.
    if (repeatedHeader(req.rawHeaders, HOST) !== undefined) return { status: 400, error: 'the request carries more than one Host header; send one' };
    const page = browserRefusal?.(req.headers);
    if (page !== undefined) return { status: 403, error: page };
    // Node keeps the first Authorization: the right token then a wrong one passed.
    if (repeatedHeader(req.rawHeaders, AUTHORIZATION) !== undefined)
      return { status: 401, error: 'the request carries more than one Authorization header; send the admin token once' };
    if (!authorised(bearer(req)))
      return { status: 401, error: isAdminPath(req) ? 'missing or wrong admin token (Authorization: Bearer ...)' : NOT_THE_APPLICATION_PORT };
    connections.vouch(req.socket);
    return undefined;
  };
  const server = createServer(
    // Node checks both timeouts on this interval (30 s by default): often enough that a silent connection goes.
    // A request's body (a route, under a kilobyte) has as long again as its headers.
    { headersTimeout: ADMIN_HEADERS_TIMEOUT_MS, requestTimeout: 2 * ADMIN_HEADERS_TIMEOUT_MS, connectionsCheckingInterval: ADMIN_HEADERS_TIMEOUT_MS / 4 },
    (req, res) => {
      serve(req, res, options, refusal).catch((error: unknown) => {
        if (!res.headersSent) json(res, 500, { error: errorText(error) });
      });
    },
  );
  server.on('connection', (socket: Socket) => connections.admit(socket));
  // Without these listeners Node answers a malformed or slow request, or an Expect it does not meet, bare: no body
  // to say why. The admin API's own shape instead, `{ error }`.
  const slow = `the request headers did not arrive within ${ADMIN_HEADERS_TIMEOUT_MS} ms`;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    answerClientError(error, socket, ({ status, message }) => ({ status, body: JSON.stringify({ error: message }) }), slow);
  });
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    json(res, 417, { error: `the admin API meets only "Expect: 100-continue", not "Expect: ${oneLine(req.headers.expect ?? '', 100)}"` }, true);
  });
  const { url } = await listen(server, options.port, options.host);
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** One admin call: the token checked, then answered by path and method. */
async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  options: AdminOptions,
  refusal: (req: IncomingMessage) => AdminRefusal | undefined,
): Promise<void> {
  const { route, metrics, now } = options;
  const refused = refusal(req);
  if (refused !== undefined) {
    req.resume();
    // A body still coming is not drained: the connection closes after the answer.
    return json(res, refused.status, { error: refused.error }, refused.close === true || !req.complete);
  }
  const path = (req.url ?? '/').split('?', 1)[0];
  // resultsEpoch: which proxy process answers (one feed each), so a rollout tells two admin URLs of one proxy apart.
  if (path === '/admin/route' && req.method === 'GET')
    return json(res, 200, { ...routeRead(route), now: now(), ...serves(options), ...(options.feed && { resultsEpoch: options.feed.epoch }) });
  if (path === '/admin/figures' && req.method === 'GET') return json(res, 200, { stage: metrics.stageSnapshot(), lifetime: metrics.snapshot() });
  if (path === '/admin/results' && req.method === 'GET' && options.feed) return readResults(req, res, options, options.feed);
  if (path === '/admin/route' && req.method === 'PUT') return putRoute(req, res, options);
  req.resume();
  const paths = 'admin paths: GET/PUT /admin/route, GET /admin/figures, GET /admin/results';
  json(res, 404, { error: isAdminPath(req) ? paths : `${NOT_THE_APPLICATION_PORT}; ${paths}` }, !req.complete);
}

/**
 * GET /admin/route's route: the stored one, what it serves by, and `heldBy` while a lapsed lease may still be its
 * holder's (RouteHolder.lapsedHolder), so a rollout's preflight refuses the proxy as its first route would be.
 */
function routeRead(route: RouteHolder): { route: Route; effective: EffectiveRoute; heldBy?: Route } & Partial<UnsavedParts> {
  const heldBy = route.lapsedHolder();
  // The route in force not saved: a recovery that finds it on blue sends blue again, so that a restart keeps it.
  const unsaved = unsavedParts(route);
  return { route: withRevision(route.stored), effective: route.effective(), ...(heldBy && { heldBy }), ...unsaved };
}

/** Why the route in force is not saved, and what a restart would serve instead: told with a route set (500) or read. */
interface UnsavedParts {
  unsaved: string;
  restartServes: string;
  restartKeepsGreen: boolean;
  /** What lets routes be saved again: free the folder, or restart the proxy on it when it is gone. */
  fix: string;
}

function unsavedParts(route: RouteHolder): UnsavedParts | undefined {
  const unsaved = route.unsaved;
  return unsaved === undefined
    ? undefined
    : { unsaved, restartServes: route.restartWouldServe(), restartKeepsGreen: route.restartKeepsGreen, fix: route.unsavedFix ?? UNSAVED_FIX };
}

/** A route no one has set yet (or saved before revisions) is revision 0: what a caller's ifRevision names for it. */
function withRevision(stored: Route): Route {
  return { ...stored, revision: stored.revision ?? 0 };
}

/** What GET /admin/route says of the proxy beside its route: the plan and models it serves, its quality rules, its fallback. */
function serves(options: AdminOptions): { serves?: string; quality?: string; fallback?: boolean } {
  return {
    ...(options.owner !== undefined && { serves: options.owner }),
    ...(options.quality !== undefined && { quality: options.quality }),
    ...(options.fallback !== undefined && { fallback: options.fallback }),
  };
}

/** GET /admin/results: a page of the results feed after the reader's cursor, with the attempts under way. */
function readResults(req: IncomingMessage, res: ServerResponse, options: AdminOptions, feed: ResultsFeed): void {
  const { metrics } = options;
  const query = new URL(req.url ?? '/', 'http://admin').searchParams;
  const after = wholeNumber(query, 'after') ?? 0;
  if (typeof after === 'string') return json(res, 400, { error: after });
  const inFlightUpTo = wholeNumber(query, 'inFlightUpTo');
  if (typeof inFlightUpTo === 'string') return json(res, 400, { error: inFlightUpTo });
  options.beforeResults?.();
  // `epoch`: the feed the reader's cursor is in; read past up to `after` only if it is this one. The page and
  // the attempts under way are taken together: an attempt that ended is in the page (or before it), never in both.
  return json(res, 200, {
    ...feed.read(after, undefined, query.get('epoch') ?? undefined),
    epoch: feed.epoch,
    version: FEED_VERSION,
    inFlight: {
      ...metrics.inFlightByStage(inFlightUpTo),
      sentTagged: true,
      ...(options.stallTimeoutMs !== undefined && { stallTimeoutMs: options.stallTimeoutMs }),
      ...(options.longestMs !== undefined && { longestMs: options.longestMs }),
    },
  });
}

/** PUT /admin/route: the route a rollout (or an operator) sets, refused when another plan, rules or run holds it. */
async function putRoute(req: IncomingMessage, res: ServerResponse, options: AdminOptions): Promise<void> {
  const { route, metrics, now } = options;
  const read = await readBody(req, 64 * 1024, 10_000);
  if (!read.ok) return json(res, 400, { error: `unreadable body (${read.reason})` });
  let body: unknown;
  try {
    body = JSON.parse(read.body.toString('utf8'));
  } catch {
    return json(res, 400, { error: 'the body is not JSON' });
  }
  const next = routeRequest(body, now(), options.redact);
  if (typeof next === 'string') return json(res, 400, { error: next });
  // A rollout of another plan (a wrong admin URL, a proxy restarted on another plan) would judge and promote
  // models it never meant: its route is refused, whatever it asks.
  if (next.rollout !== undefined && options.owner !== undefined && next.rollout !== options.owner) {
    return json(res, 409, { error: `this proxy serves ${options.owner}, not ${next.rollout}: only a rollout of that plan and models sets its route` });
  }
  // The proxy checks every answer's quality by its own plan's rules, and the rollout judges those outcomes: a
  // rollout whose plan's rules differ (edited since the proxy started) would report checks nobody made.
  if (next.quality !== undefined && options.quality !== undefined && next.quality !== options.quality) {
    return json(res, 409, { error: qualityMismatch(options.quality, next.quality) });
  }
  // Checked at the rollout's preflight too; here it meets a proxy restarted mid-rollout on a plan without fallback,
  // which would let green's failures reach the application the rollout's plan says is shielded from them.
  if (next.fallback === true && options.fallback === false) return json(res, 409, { error: NO_FALLBACK });
  // A controller going on from its own route never overrides one set since by someone else (an operator's
  // emergency blue, another rollout): it is told, and rolls back rather than reopen green.
  const goingOn = next.goingOn === true && next.route.controller !== undefined ? next.route.controller : undefined;
  const changed = goingOn === undefined ? undefined : route.changedSince(goingOn, next.route);
  if (changed !== undefined) return json(res, 409, { error: changed });
  // Conditional on the route the caller read (a dead run's recovery over that run's ended route): nothing set
  // since (another run's first route landing between the read and this write) is overwritten.
  // A controller going on from its own route sends it conditional on the revision it last set, so its renewal sent
  // before a lapse and delivered after it (a proxy stopped a while, a partition) is refused here: its run may be dead,
  // and `bluegreen rollback` said blue. The route in force is one it may go on from (changedSince passed): told its
  // revision (goOnFrom), a live run sends again over it, and a dead run's stale route is never sent again.
  const conditional = next.ifRevision !== undefined || next.ifUpdatedAt !== undefined;
  const moved = conditional ? route.changedFrom({ revision: next.ifRevision, updatedAt: next.ifUpdatedAt }) : undefined;
  if (moved !== undefined) return json(res, 409, { error: moved, code: 'changed', ...(goingOn !== undefined && { goOnFrom: route.stored.revision ?? 0 }) });
  // Another rollout run's live lease (on either clock: lapsedHolder), or its completed promotion.
  const claim = otherRunsClaim(route.lapsedHolder() ?? route.stored, { ...next.route, ...(next.resumes && { resumes: next.resumes }) }, now());
  if (claim !== undefined) return json(res, 409, { error: claim.message, code: claim.code });
  // Back after its lease ran out (suspended, cut off): the route is set again, and the controller told.
  const lapsedAt = goingOn === undefined ? undefined : route.lapsedAt();
  if (next.stage !== undefined) metrics.startStage(next.stage, next.route.controller);
  // A lease that ran out is applied first, so a route set again after it is said again.
  route.effective();
  const before = describeRoute(route.stored);
  const set = route.set(next.route);
  // Answered once saved: a proxy killed just after saying "back on blue" must not restart on the promotion it
  // had saved before (a write that fails is logged, and the route is still in force in memory).
  await route.flush();
  // Renewals (every lease/3) repeat the route: only a change is worth a line.
  const said = describeRoute(set);
  if (said !== before) options.log?.(`route set: ${said}`);
  // Not saved, the route would not outlive a restart, which would serve the file's older route (a promotion
  // over a rollback's blue): the caller is told, and a rollout fails toward blue (docs/live.md).
  const unsaved = unsavedParts(route);
  if (unsaved !== undefined) {
    return json(res, 500, {
      error: `${unsaved.unsaved}; the route (${said}) is in force until the proxy restarts, which would serve the route last saved there instead (${unsaved.restartServes}): ${unsaved.fix}`,
      // The route was applied: the caller need not try again (its answer would be this one), nor count on a lease.
      inForce: true,
      // The parts, so a caller says them in its own words (a rollout's blue that a restart keeps is no failure).
      ...unsaved,
    });
  }
  // resultsCursor: results after it were recorded under this route (and stage).
  return json(res, 200, {
    route: set,
    effective: route.effective(),
    now: now(),
    ...(options.feed && { resultsCursor: options.feed.cursor, resultsEpoch: options.feed.epoch }),
    ...(lapsedAt !== undefined && { lapsedAt }),
  });
}
