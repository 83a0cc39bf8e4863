// Starting and stopping the proxy: its targets, route, figures and admin API, the HTTP server (what answers each
// request by path and method: request-handler.ts), and the drain before a stop.
import type { Redactor } from '../core/redact.js';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createQualityChecker, qualityRulesKey } from '../analysis/quality.js';
import type { ArmName, Plan } from '../plan/plan.js';
import { systemClock } from '../core/clock.js';
import { createRandom, hashString } from '../core/random.js';
import { createSplitter } from '../split/index.js';
import { ClientKeyHeaders } from './client-key-headers.js';
import { createKeyCheck, type KeyCheck } from './auth.js';
import { listen } from './listen.js';
import type { ChatContext } from './chat.js';
import { otherModelsHint, type ProxySettings } from './config.js';
import { inboundFor, type InboundDialect } from './inbound.js';
import { ProxyMetrics, type RejectReason } from './metrics.js';
import { createMirror } from './mirror.js';
import { createPrometheus } from './prometheus.js';
import { answerClientError, answerOnSocket, sendError, type ClientRefusal } from './respond.js';
import { CLOSE } from './discard.js';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { ConnectionCap } from './connection-cap.js';
import { formatDuration, oneLine } from '../core/format.js';
import { routeOwner } from './route.js';
import { RouteHolder } from './route-holder.js';
import { passthroughNotices, previousBlueNotice } from './model-notices.js';
import { createTargets, type ArmUpstream, type Targets } from './targets.js';
import { postPaths } from './post-paths.js';
import { startAdmin, type AdminHandle } from './admin.js';
import { createRolloutFeed, type RolloutFeed } from './rollout-feed.js';
import { refuseRunningProxy, removeProxyInfo, writeProxyInfo } from './discovery.js';
import { claimFolder, releaseFolder } from './folder-claim.js';
import { thisProcess } from '../core/proc-stat.js';
import { setMaxListeners } from 'node:events';
import { InFlight } from './in-flight.js';
import { untilIdle } from './drain.js';
import { createIntake, type Intake } from './intake.js';
import { createRequestHandler } from './request-handler.js';

/** Which of the proxy's listeners could not bind, on an error from startProxy (EADDRINUSE and the like). */
export type Listener = 'proxy' | 'admin';

/** The bind error, marked with the listener it came from: both may be on one port, so the port alone cannot tell. */
function failedListener(error: unknown, listener: Listener): unknown {
  if (error instanceof Error) Object.assign(error, { listener });
  return error;
}

export interface ProxyOptions {
  plan: Plan;
  settings: ProxySettings;
  /** Each arm's concrete upstream and key (a simulator already started for `simulate` plans). */
  upstreams: Record<ArmName, ArmUpstream>;
  /** Where the route is kept; none keeps it in memory. */
  stateDir?: string;
  /** The wall clock: routes' stamps and leases, what the proxy records. Default Date.now. */
  now?: () => number;
  /**
   * A clock that only moves forward, which latencies are timed on: a wall clock stepped mid-request (NTP) would time
   * an hour, or less than nothing. Default performance.now; `now` when only that is given (a test's one time).
   */
  steadyNow?: () => number;
  /** For the mirror draw and unkeyed splits. Default: seeded from the clock. */
  random?: () => number;
  /** For HTTPS_PROXY / HTTP_PROXY / NO_PROXY towards the upstreams. Default: none (direct). */
  env?: NodeJS.ProcessEnv;
  /** Operator notices (lease expired, a route write failed). Never carries a key. */
  log?: (message: string) => void;
  /**
   * The secrets the proxy's output is kept from (`bluegreen proxy`: its plan's keys, client keys and admin token,
   * cli/secrets.ts): cut out of a route's reason as it comes in, as the upstream keys always are.
   */
  redactor?: Redactor;
}

export interface ProxyHandle {
  /** http://HOST:PORT */
  url: string;
  port: number;
  /** The admin API's base URL, when the plan configures one. */
  adminUrl?: string;
  metrics: ProxyMetrics;
  route: RouteHolder;
  /** Requests being served now (chat requests and model lists). */
  inFlight(): number;
  /**
   * Stops accepting (the admin API too: a new proxy may take both ports and the route file at once) and lets the
   * requests in flight finish, for up to `timeoutMs` or until `force` aborts: answers carry `connection: close`,
   * /healthz says 503, mirror copies are cancelled. Resolves with the number
   * of requests still running when it gave up (0 when all finished). close() cuts those.
   */
  drain(timeoutMs: number, force?: AbortSignal): Promise<number>;
  /** Stops accepting, cancels what is running (mirrors included) and closes the upstream pools. */
  close(): Promise<void>;
}

export async function startProxy(options: ProxyOptions): Promise<ProxyHandle> {
  const { stateDir } = options;
  if (stateDir === undefined) return startClaimed(options, () => {});
  // Before anything is opened: one proxy per state folder, claimed in one step (folder-claim.ts), and one that runs
  // without the claim (a version from before it) found by its proxy.json.
  const claim = claimFolder(stateDir);
  const release = () => releaseFolder(stateDir, claim);
  try {
    await refuseRunningProxy(stateDir, process.pid);
    return await startClaimed(options, release);
  } catch (error) {
    release();
    throw error;
  }
}

/** The proxy, its state folder claimed: `release` lets the folder go once its port is closed. */
async function startClaimed(options: ProxyOptions, release: () => void): Promise<ProxyHandle> {
  const { plan, settings } = options;
  const now = options.now ?? Date.now;
  const steady = options.steadyNow ?? options.now ?? (() => performance.now());
  const random = options.random ?? createRandom(now());
  const inbound = inboundFor(plan.arms.blue.upstream.api);
  const targets = createTargets(options.upstreams, {
    env: options.env,
    maxResponseBytes: settings.limits.maxResponseBytes,
    maxStreamMs: settings.limits.maxStreamMs,
    openingHoldMs: settings.openingHoldMs,
    relayed: inbound.relayPaths.map((relayed) => relayed.path),
  });
  const shutdown = new AbortController();
  // Every mirror copy in flight listens on this one signal; that is the design, not a leak.
  setMaxListeners(0, shutdown.signal);
  const { owner, route, metrics, rolloutFeed } = routeAndFigures(options, targets, now);
  const prometheus = createPrometheus(metrics, () => route.effective(), steady, inbound.responsesPath && targets.responses ? ['chat', 'responses'] : ['chat']);
  const keyCheck = createKeyCheck(settings.clientKeys);
  const metricsCheck = metricsKeyCheck(settings, keyCheck);
  const chat = chatContext(options, { inbound, targets, route, metrics, random, steadyNow: steady, shutdown: shutdown.signal });
  const inFlight = new InFlight();
  // Set by drain(): the proxy is stopping and only finishes what it has.
  let drained: Promise<number> | undefined;
  // With client keys, a connection that carried one keeps its place past max_connections (connection-cap.ts).
  const connections = settings.clientKeys.length > 0 ? new ConnectionCap(settings.limits.maxConnections) : undefined;
  const intake = createIntake({ inbound, keyCheck, metrics, inFlight, limits: settings.limits, targets, connections, splitModels: settings.splitModels });
  const handle = createRequestHandler({
    inbound,
    intake,
    posts: postPaths(chat),
    metrics,
    prometheus,
    route,
    inFlight,
    metricsCheck,
    connections,
    keyless: settings.clientKeys.length === 0,
    draining: () => drained !== undefined,
    log: options.log,
  });
  const server = createProxyServer(settings, handle, intake, { inbound, metrics, connections });
  const { port, url } = await listen(server, settings.port, settings.host).catch(async (error: unknown) => {
    await targets.close();
    throw failedListener(error, 'proxy');
  });
  const admin = await startAdminAndRecord(options, { owner, route, metrics, rolloutFeed, server, targets, url, now });
  const stop = proxyStopper(options, { server, admin, inFlight, shutdown, route, rolloutFeed, targets, release });
  return {
    url,
    port,
    ...(admin && { adminUrl: admin.url }),
    metrics,
    route,
    inFlight: () => inFlight.size,
    drain: (timeoutMs, force) => (drained ??= stop.drain(timeoutMs, force)),
    close: () => stop.close(),
  };
}

/** The route (and the plan and models it is for), the figures, and the results feed a rollout reads (with an admin API). */
function routeAndFigures(
  options: ProxyOptions,
  targets: Targets,
  now: () => number,
): { owner: string; route: RouteHolder; metrics: ProxyMetrics; rolloutFeed: RolloutFeed | undefined } {
  const { plan, settings } = options;
  // The plan and models this proxy moves traffic between: recorded with its routes, and what its admin API serves.
  const owner = routeOwner(plan.name, plan.arms.blue.model, plan.arms.green.model);
  const route = new RouteHolder({
    stateDir: options.stateDir,
    // On the real clock a lease is also timed on the steady one; so on a test's clock that has one (else its wall
    // clock is the only time there is): dropped, a wall step back stretched a lease on that clock.
    clock: options.now === undefined ? systemClock : { now, ...(options.steadyNow && { steadyNow: options.steadyNow }) },
    onNotice: options.log,
    rollout: owner,
    blueModel: plan.arms.blue.model,
  });
  // After "making green the new blue": the application may still ask for the previous plan's blue (said beside the route file's notice).
  const previous = previousBlueNotice(plan, settings, route.recordedForOther);
  if (previous !== undefined) options.log?.(previous);
  const metrics = new ProxyMetrics({
    prices: { blue: plan.arms.blue.price, green: plan.arms.green.price },
    quality: createQualityChecker(plan.analysis.quality),
    redactor: targets.reasonRedactor,
    now,
  });
  // Every result, in order, for the rollout driving this proxy (GET /admin/results), handed over across restarts.
  const rolloutFeed = settings.admin
    ? createRolloutFeed({ metrics, route, adminToken: settings.admin.token, stateDir: options.stateDir, now, log: options.log })
    : undefined;
  return { owner, route, metrics, rolloutFeed };
}

/** What answers a chat request: its dialect, arms, route, split, figures, mirror and fallback. */
function chatContext(
  options: ProxyOptions,
  parts: Pick<ChatContext, 'inbound' | 'targets' | 'route' | 'metrics' | 'random' | 'steadyNow'> & { shutdown: AbortSignal },
): ChatContext {
  const { plan, settings } = options;
  const { metrics, steadyNow } = parts;
  return {
    inbound: parts.inbound,
    targets: parts.targets,
    route: parts.route,
    // Seeded from the plan name: every proxy of a rollout, and a restarted one, puts a user on the same arm.
    splitter: createSplitter(hashString(plan.name), parts.random),
    metrics,
    mirror: createMirror(metrics, settings.limits.maxMirrorInFlight, steadyNow, parts.shutdown),
    splitModels: settings.splitModels,
    passthrough: settings.passthrough,
    otherModels: otherModelsHint(settings),
    passedThrough: passthroughNotices(plan, settings, parts.route.recordedForOther, options.log),
    fallback: settings.fallback,
    random: parts.random,
    steadyNow,
    clientKeys: clientKeyHeaders(settings),
  };
}

/** The keys an application's header must not carry upstream: the client keys, and the admin token beside them. */
function clientKeyHeaders(settings: ProxySettings): ClientKeyHeaders | undefined {
  const keys = new ClientKeyHeaders([...settings.clientKeys, ...(settings.admin ? [settings.admin.token] : [])]);
  return keys.active() ? keys : undefined;
}

/** With client keys (always, off loopback) /metrics wants one of them, or the admin token; /healthz stays open. */
function metricsKeyCheck(settings: ProxySettings, keyCheck: KeyCheck): KeyCheck {
  return settings.clientKeys.length > 0 ? createKeyCheck([...settings.clientKeys, ...(settings.admin ? [settings.admin.token] : [])]) : keyCheck;
}

/** The proxy's HTTP server, its timeouts and connection cap set, not yet listening. */
function createProxyServer(
  settings: ProxySettings,
  handle: RequestListener,
  intake: Intake,
  { inbound, metrics, connections }: { inbound: InboundDialect; metrics: ProxyMetrics; connections: ConnectionCap | undefined },
): Server {
  const server = createServer(
    {
      headersTimeout: settings.limits.headerTimeoutMs,
      // Node checks both timeouts on this interval (30 s by default): often enough that they hold.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(settings.limits.headerTimeoutMs / 4))),
      // A backstop behind the body timer, which answers in the dialect's shape first.
      requestTimeout: settings.limits.headerTimeoutMs + settings.limits.bodyTimeoutMs + 1000,
      noDelay: true,
      keepAliveTimeout: 65_000,
      // An HTTP/1.1 request without Host is refused by the request handler, in the dialect's shape: Node's own
      // refusal was a bare 400 with no body.
      requireHostHeader: false,
    },
    handle,
  );
  // Without this listener Node answers 100 Continue before the proxy has looked at the request.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    intake.awaitingContinue.add(req);
    handle(req, res);
  });
  // Without this listener Node answers any other Expect with a bare 417, no body for the application's SDK to read.
  server.on('checkExpectation', refuseExpectation(inbound, metrics));
  // Without this listener Node closes a CONNECT's connection without a word.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    metrics.reject('bad_request');
    refuseTunnel(inbound, socket);
  });
  // Past max_connections a new connection is closed at once: idle keep-alive sockets cannot pile up to the process's
  // file limit. With client keys, the oldest that never carried one is closed instead, while there is one: a 401 or
  // an open /healthz keeps a connection alive 65 s, so anyone reaching the port could otherwise hold every place.
  if (connections) server.on('connection', (socket: Socket) => connections.admit(socket));
  else server.maxConnections = settings.limits.maxConnections;
  // Without this listener Node's answers here are bare (no body for the application's SDK to read).
  const slow = `the request headers did not arrive within proxy.limits.header_timeout (${formatDuration(settings.limits.headerTimeoutMs)})`;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const refusal = answerClientError(error, socket, ({ kind, message }) => inbound.error(kind, message), slow);
    if (refusal) metrics.reject(REFUSAL_REASON[refusal.kind]);
  });
  return server;
}

/** The rejected_total reason of each refusal answered to what Node's parser could not read. */
const REFUSAL_REASON: Record<ClientRefusal['kind'], RejectReason> = {
  bad_request: 'bad_request',
  slow_client: 'timeout',
  too_large: 'too_large',
  headers_too_large: 'too_large',
};

/**
 * A CONNECT: a client told to use the proxy as its HTTPS_PROXY (a forward proxy), which it is not. 405 in the
 * dialect's shape, saying what to set instead; then, as answerClientError does, FIN and a reset after a linger.
 */
function refuseTunnel(inbound: InboundDialect, socket: Duplex): void {
  const reply = inbound.error(
    'method',
    "this proxy is an API's base URL, not a forward proxy for CONNECT: point the SDK's base URL at it rather than HTTPS_PROXY or HTTP_PROXY",
  );
  answerOnSocket(socket, reply);
}

/**
 * The answer to an `Expect:` other than 100-continue (RFC 9110 10.1.1: 417), in the dialect's shape. The client
 * waits for this answer before it sends a body, so none is read: the connection closes after it.
 */
function refuseExpectation(inbound: InboundDialect, metrics: ProxyMetrics): RequestListener {
  return (req, res) => {
    req.resume();
    metrics.reject('bad_request');
    const message = `this proxy meets only "Expect: 100-continue", not "Expect: ${oneLine(req.headers.expect ?? '', 100)}"`;
    sendError(res, inbound, 'expectation', message, CLOSE);
  };
}

/**
 * The admin API (when the plan has one) and the state folder's proxy record, once the proxy listens; on a failure
 * of either, everything opened so far is closed again.
 */
async function startAdminAndRecord(
  options: ProxyOptions,
  opened: {
    owner: string;
    route: RouteHolder;
    metrics: ProxyMetrics;
    rolloutFeed: RolloutFeed | undefined;
    server: Server;
    targets: Targets;
    url: string;
    now: () => number;
  },
): Promise<AdminHandle | undefined> {
  const { plan, settings } = options;
  const { route, metrics, rolloutFeed, now } = opened;
  let admin: AdminHandle | undefined;
  try {
    if (settings.admin)
      admin = await startAdmin({
        ...settings.admin,
        owner: opened.owner,
        quality: qualityRulesKey(plan.analysis.quality),
        fallback: settings.fallback,
        route,
        metrics,
        feed: rolloutFeed?.feed,
        beforeResults: () => rolloutFeed?.poll(),
        // A stream may stall right after its first bytes (up to timeout.request in), then fail on timeout.idle.
        stallTimeoutMs: Math.max(
          ...[options.upstreams.blue, options.upstreams.green].map(({ upstream }) => upstream.timeout.requestMs + upstream.timeout.idleMs),
        ),
        // Any request ends by its timeout.request (a whole answer, a stream's first bytes), a stream max_stream_duration after that.
        longestMs:
          Math.max(...[options.upstreams.blue, options.upstreams.green].map(({ upstream }) => upstream.timeout.requestMs)) + settings.limits.maxStreamMs,
        now,
        log: options.log,
        redact: (text) => opened.targets.reasonRedactor.text(options.redactor?.text(text) ?? text),
      }).catch((error: unknown) => {
        throw failedListener(error, 'admin');
      });
    if (options.stateDir !== undefined)
      writeProxyInfo(options.stateDir, { ...thisProcess(), url: opened.url, ...(admin && { adminUrl: admin.url }), startedAt: now() });
  } catch (error) {
    await admin?.close();
    await new Promise<void>((resolve) => opened.server.close(() => resolve()));
    await opened.targets.close();
    route.stop();
    throw error;
  }
  return admin;
}

/** How the proxy stops: drain (finish what runs, for a while) and close (cut it), each at most once. */
function proxyStopper(
  options: ProxyOptions,
  parts: {
    server: Server;
    admin: AdminHandle | undefined;
    inFlight: InFlight;
    shutdown: AbortController;
    route: RouteHolder;
    rolloutFeed: RolloutFeed | undefined;
    targets: Targets;
    /** Lets the state folder go (folder-claim.ts). */
    release: () => void;
  },
): { drain(timeoutMs: number, force?: AbortSignal): Promise<number>; close(): Promise<void> } {
  const { server, admin, inFlight, shutdown, route, rolloutFeed, targets, release } = parts;
  let closing: Promise<void> | undefined;
  let listening: Promise<void> | undefined;
  // Once: resolves when the server has closed its port and every connection has ended.
  const stopListening = (): Promise<void> => (listening ??= new Promise<void>((resolve) => server.close(() => resolve())));
  let adminClosed: Promise<void> | undefined;
  const closeAdmin = (): Promise<void> => (adminClosed ??= admin?.close() ?? Promise.resolve());
  return {
    async drain(timeoutMs, force) {
      inFlight.closeConnectionsAfterAnswers();
      // Nobody waits for a mirror copy: it is not worth holding the stop for.
      shutdown.abort(new Error('the proxy is shutting down'));
      // The port closes (a new proxy may bind it at once) and idle keep-alive connections with it. The admin
      // port too, and the route file is left to that new proxy: a rollout drives the replacement, not this one.
      void stopListening();
      const adminClosing = closeAdmin();
      route.detach();
      // Its replacement claims the folder as it takes the port.
      release();
      rolloutFeed?.startHandover();
      await adminClosing;
      await untilIdle(inFlight, timeoutMs, force);
      return inFlight.size;
    },
    close() {
      closing ??= (async () => {
        route.stop();
        if (options.stateDir !== undefined) removeProxyInfo(options.stateDir, process.pid);
        release();
        await closeAdmin();
        shutdown.abort(new Error('the proxy is shutting down'));
        const closed = stopListening();
        server.closeAllConnections();
        await closed;
        // The requests cut just now are recorded on their sockets' close events: in the last write too.
        await new Promise((resolve) => setImmediate(resolve));
        await rolloutFeed?.finishHandover();
        await Promise.all([targets.close(), route.flush()]);
      })();
      return closing;
    },
  };
}
