// One proxy's admin API, from the rollout's side: set the route under a lease, read its results and figures.
// Every call carries the admin token and gives up after a short timeout: a proxy that does not answer at once
// is reported unreachable (its lease then runs out on its own), never waited on.
import { Agent, request } from 'undici';
import type { FeedAnswer } from '../proxy/results-feed.js';
import type { ProxyFigures } from '../proxy/metrics.js';
import { UNSAVED_FIX, type EffectiveRoute, type Route } from '../proxy/route.js';
import type { ArmName } from '../plan/plan.js';
import { readCapped } from '../core/read-capped.js';
import { ProcessOrder } from './process-order.js';

/**
 * The most of one admin answer read: a page of results (5,000 at most, a few hundred bytes each) is a few MB. Anything
 * larger at an admin URL is not a bluegreen proxy (a wrong URL answering a stream), and is not held in memory.
 */
export const MAX_ADMIN_ANSWER_BYTES = 16 * 1024 * 1024;
/** Errors of a connection that was never made (undici's connect timeout, the socket's own): no byte of the call left. */
const NOT_CONNECTED: ReadonlySet<unknown> = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
/** undici's own timeouts (the call's deadline aside): the proxy was silent for a whole timeout. */
const TIMED_OUT: ReadonlySet<unknown> = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export interface RouteSet {
  greenWeight: number;
  mirror: number;
  ttlMs?: number;
  promotedArm?: ArmName;
  reason?: string;
  stage?: number;
  /** routeOwner() of the rollout's plan: a proxy of another plan or other models refuses the route (409). */
  rollout?: string;
  /** qualityRulesKey() of the rollout's plan: a proxy checking answers by other quality rules refuses the route (409). */
  quality?: string;
  /** The rollout's plan's proxy.fallback, when true: a proxy serving without fallback refuses the route (409). */
  fallback?: true;
  /** An id of this rollout run, kept with the route. */
  controller?: string;
  /** Who runs it and where, kept with the route: another rollout refused by it is told whose it is. */
  by?: string;
  /** `rollout --resume`: the dead runs' controller ids, whose routes the proxy counts as this run's. */
  resumes?: string[];
  /** Going on from its own route (a renewal, the next stage): refused (409) if someone else set one since. */
  goingOn?: boolean;
  /** The rollout's last route (its ending): the proxy refuses any later one of this run going on from it. */
  ended?: boolean;
  /**
   * Only over the route read, or last set (its revision): the proxy refuses (409, code `changed`) if another was set
   * since, a lapse of its lease too.
   */
  ifRevision?: number;
  /** The same by the route's updatedAt: sent too, for a proxy from before session 18 (which knows no revision). */
  ifUpdatedAt?: number;
}

export interface RouteAnswer {
  route: Route;
  effective: EffectiveRoute;
  now: number;
  resultsCursor?: number;
  /** The results feed that cursor is in (one per proxy process). */
  resultsEpoch?: string;
  /** routeOwner() of the proxy's own plan (proxies since session 8 say it). */
  serves?: string;
  /** qualityRulesKey() of the proxy's own plan: the quality rules it checks answers by (proxies since session 13). */
  quality?: string;
  /** The proxy's proxy.fallback (proxies since session 14 say it). */
  fallback?: boolean;
  /** Set when this rollout's lease had run out before the route reached the proxy: since when it served blue. */
  lapsedAt?: number;
  /**
   * GET: the route whose lease the proxy applied as run out by its wall clock while it still runs on its steady
   * clock (proxies since session 27): another run's first route is refused until then.
   */
  heldBy?: Route;
  /**
   * GET: why the route in force is not saved there (its state folder full or read-only; proxies since session 32),
   * with what a restart would serve instead (restartServes, restartKeepsGreen).
   */
  unsaved?: string;
  restartServes?: string;
  restartKeepsGreen?: boolean;
}

/** A route in force that the proxy could not save (its 500's parts). */
export interface UnsavedRoute {
  /** "could not save the route to /state/proxy-route.json: ENOSPC". */
  error: string;
  /** What a restart would serve, from the route last saved: "blue", a stage's route until its lease runs out, a promotion. */
  restartServes: string;
  /** A restart would serve a promotion saved there, which no lease brings back to blue. */
  restartKeepsGreen: boolean;
  /** What lets routes be saved again ("free its state folder (...)", or restart the proxy on a folder that is gone). */
  fix: string;
}

export class AdminCallError extends Error {
  constructor(
    message: string,
    /** The HTTP status, when the proxy answered. */
    readonly status?: number,
    /**
     * Why a 409, when the proxy says: `held` by another run's lease, another run's `promoted` green (route-claims.ts),
     * `changed` since the route an `ifRevision` (or `ifUpdatedAt`) names.
     */
    readonly code?: string,
    /** The proxy applied the route but could not save it (its 500 says what a restart would serve instead). */
    readonly inForce = false,
    /** With inForce, from proxies since session 30: why it is not saved, and what a restart would serve. */
    readonly unsaved?: UnsavedRoute,
    /** The call never reached the proxy (its connection was refused or never made): nothing was sent. */
    readonly neverSent = false,
    /** The call spent its whole timeout (to connect or for the answer): asking again would spend it again. */
    readonly timedOut = false,
    /**
     * With code `changed`, to a route going on from the caller's own (proxies since session 36): the revision of the
     * route in force, which the caller may go on from (its own lease's lapse, its own route whose answer was lost).
     */
    readonly goOnFrom?: number,
  ) {
    super(message);
  }

  /** The proxy answered, and refused the admin token (401 from a bluegreen proxy, 403 from a gateway in front of it). */
  get tokenRefused(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

/**
 * "refused the admin token in ADMIN_TOKEN (401)": the proxy answered, so "did not answer" would send the operator
 * looking for a network problem. Names the variable, never the token.
 */
export function tokenRefusal(error: AdminCallError, tokenEnv: string | undefined): string {
  return `refused the admin token${tokenEnv ? ` in ${tokenEnv}` : ''} (${error.status ?? '?'})`;
}

export interface AdminClientOptions {
  /** The admin base URL, like http://127.0.0.1:8788. */
  url: string;
  token: string;
  /** Per call; default 2 s. */
  timeoutMs?: number;
}

/** Reads of a URL's route after one answer, one after another: behind a round-robin balancer, up to 3 more processes show. */
const MORE_READS = 3;

export class AdminClient {
  readonly url: string;
  /** Which proxy processes answered here, by the results feed each answer names (two at once: a load balancer). */
  readonly processes = new ProcessOrder();
  private readonly agent: Agent;
  private readonly timeoutMs: number;

  constructor(private readonly options: AdminClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 2000;
    // The call's own deadline (lenientDeadline) governs; undici's timers are a backstop behind it, as they would
    // otherwise fire on a suspended process's wake-up before an answer that arrived in time is read.
    const backstopMs = this.timeoutMs * 2;
    this.agent = new Agent({ connections: 4, connectTimeout: this.timeoutMs, headersTimeout: backstopMs, bodyTimeout: backstopMs });
  }

  /**
   * Reads the route up to MORE_READS times more, one after another, each on a connection of its own (a balancer may
   * spread connections rather than requests), until a second process answering here shows: the two feeds that
   * answered in turn (process-order.ts), or undefined. A read that fails here is no answer to judge by.
   */
  async lookForOtherProcesses(): Promise<readonly [string, string] | undefined> {
    for (let read = 0; read < MORE_READS && this.processes.twoAnswering === undefined; read++) await this.getRoute(true).catch(() => undefined);
    return this.processes.twoAnswering;
  }

  /** `fresh`: on a connection of its own, so a load balancer that spreads connections (not requests) picks again. */
  getRoute(fresh = false): Promise<RouteAnswer> {
    return this.call<RouteAnswer>('GET', '/admin/route', undefined, fresh);
  }

  setRoute(route: RouteSet, fresh = false): Promise<RouteAnswer> {
    return this.call<RouteAnswer>('PUT', '/admin/route', route, fresh);
  }

  figures(): Promise<{ stage: ProxyFigures; lifetime: ProxyFigures }> {
    return this.call('GET', '/admin/figures');
  }

  /**
   * `epoch`: the feed `after` is a cursor in, so the proxy knows what was read (and need not hand it over).
   * `inFlightUpTo`: count only the attempts under way begun up to that one (a stage's end waiting for its own).
   */
  results(after: number, epoch?: string, inFlightUpTo?: number): Promise<FeedAnswer> {
    const feed = epoch === undefined ? '' : `&epoch=${encodeURIComponent(epoch)}`;
    const upTo = inFlightUpTo === undefined ? '' : `&inFlightUpTo=${inFlightUpTo}`;
    return this.call<FeedAnswer>('GET', `/admin/results?after=${after}${feed}${upTo}`);
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  private async call<T>(method: 'GET' | 'PUT', path: string, body?: unknown, fresh = false): Promise<T> {
    const deadline = lenientDeadline(this.timeoutMs);
    const sent = this.processes.sending();
    let answer;
    let text;
    try {
      answer = await request(`${this.url}${path}`, {
        method,
        dispatcher: this.agent,
        headers: { authorization: `Bearer ${this.options.token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: deadline.signal,
        ...(fresh && { reset: true }),
      });
      const whole = await readCapped(answer.body, MAX_ADMIN_ANSWER_BYTES);
      if (whole === undefined) throw new AdminCallError(`${path} answered more than ${MAX_ADMIN_ANSWER_BYTES} bytes: not a bluegreen proxy's admin answer`);
      text = whole.toString('utf8');
    } catch (error) {
      if (error instanceof AdminCallError) throw error;
      // undici's messages name the address, never the token. Every caller labels the error with the proxy's URL.
      throw new AdminCallError(
        `unreachable: ${(error as Error).message}`,
        undefined,
        undefined,
        false,
        undefined,
        NOT_CONNECTED.has((error as { code?: unknown }).code),
        deadline.signal.aborted || TIMED_OUT.has((error as { code?: unknown }).code),
      );
    } finally {
      deadline.clear();
    }
    if (answer.statusCode !== 200) {
      let detail = text.slice(0, 200);
      let code: string | undefined;
      let inForce = false;
      let unsaved: UnsavedRoute | undefined;
      let goOnFrom: number | undefined;
      try {
        const parsed = JSON.parse(text) as {
          error?: unknown;
          code?: unknown;
          inForce?: unknown;
          unsaved?: unknown;
          restartServes?: unknown;
          restartKeepsGreen?: unknown;
          fix?: unknown;
          goOnFrom?: unknown;
        };
        if (typeof parsed.error === 'string') detail = parsed.error;
        if (typeof parsed.code === 'string') code = parsed.code;
        inForce = parsed.inForce === true;
        if (inForce && typeof parsed.unsaved === 'string' && typeof parsed.restartServes === 'string')
          unsaved = {
            error: parsed.unsaved,
            restartServes: parsed.restartServes,
            restartKeepsGreen: parsed.restartKeepsGreen === true,
            // A proxy before session 36 does not say: its folder was there, full or read-only.
            fix: typeof parsed.fix === 'string' ? parsed.fix : UNSAVED_FIX,
          };
        if (typeof parsed.goOnFrom === 'number' && Number.isSafeInteger(parsed.goOnFrom) && parsed.goOnFrom >= 0) goOnFrom = parsed.goOnFrom;
      } catch {
        // not JSON: keep the text
      }
      throw new AdminCallError(`${path} answered ${answer.statusCode}: ${detail}`, answer.statusCode, code, inForce, unsaved, false, false, goOnFrom);
    }
    const parsed = JSON.parse(text) as T;
    // A route's answer names its results feed as resultsEpoch, a page of results as epoch.
    const { resultsEpoch, epoch } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { resultsEpoch?: unknown; epoch?: unknown };
    const feed = typeof resultsEpoch === 'string' ? resultsEpoch : epoch;
    if (typeof feed === 'string') this.processes.answered(feed, sent);
    return parsed;
  }
}

/**
 * An abort after `ms`, held back until the sockets were read once more. A process stopped past the deadline
 * (SIGSTOP, a suspended laptop or VM) wakes to its timers before its sockets (its poll comes back interrupted, its
 * timeout spent): an answer that arrived in time must still count, not fail the call and roll a rollout back.
 * setImmediate runs after the loop's next poll, which reads what is waiting.
 */
function lenientDeadline(ms: number): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  let held: NodeJS.Immediate | undefined;
  const timer = setTimeout(() => {
    held = setImmediate(() => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')));
  }, ms);
  timer.unref();
  return {
    signal: controller.signal,
    clear: () => {
      clearTimeout(timer);
      if (held !== undefined) clearImmediate(held);
    },
  };
}
