// One request on a split path (chat, the Responses API) from the application: parse, choose the arm, forward
// (streaming through), fall back to blue when green fails before its first byte, mirror to green in the
// background, and record the figures.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ArmName } from '../plan/plan.js';
import type { ArmSplitter } from '../split/splitter.js';
import { ClientLink } from './client-link.js';
import { answer, passOutsideSplit, refusedOddModel, refuseModel, TAG_BLUE, TAG_FALLBACK, TAG_GREEN } from './answer.js';
import { forwardTo } from './forward.js';
import type { BodyHandler } from './intake.js';
import { abandonedResult } from './forward-result.js';
import { stickyClient } from '../analysis/aborts.js';
import { BLUE_ANSWERED, BLUE_REFUSED, BlueAnswer, isPlainClientError, recordRefusal, type BlueVerdict } from './neutral.js';
import type { UpstreamResult } from '../upstream/types.js';
import type { ForwardOutcome, ForwardRequest, ForwardTarget } from './forward-types.js';
import { stickyKey, type InboundDialect } from './inbound.js';
import type { ProxyMetrics, SplitPathName, Attempt } from './metrics.js';
import type { Mirror } from './mirror.js';
import { bodyForArm, passthroughBody } from './rewrite.js';
import type { ClientKeyHeaders } from './client-key-headers.js';
import { greenHeaders, mirrorHeaders } from './idempotency.js';
import { forwardedHeaders, NO_HEADERS, responseSink, sendError, type AnswerTag } from './respond.js';
import { parseRequestBody, type Parsed } from './request-json.js';
import type { RouteHolder } from './route-holder.js';
import { passesThrough, type Passthrough } from './config.js';
import { StoredResponses, UNSPLIT, type Pin } from './stored-responses.js';
import type { Targets } from './targets.js';

export interface ChatContext {
  inbound: InboundDialect;
  targets: Targets;
  route: RouteHolder;
  splitter: ArmSplitter;
  metrics: ProxyMetrics;
  mirror: Mirror;
  /** Model names split between the arms (blue's model and its aliases). */
  splitModels: ReadonlySet<string>;
  /** How a refused model could pass (config.ts otherModelsHint), for its 404. */
  otherModels: string;
  /** Other models sent to blue's upstream untouched; the rest are refused. */
  passthrough: Passthrough;
  /** Told of each model passed through (server.ts: says once when it is green's, which the application should not name). */
  passedThrough?: (model: string) => void;
  fallback: boolean;
  random: () => number;
  /** A clock that only moves forward (performance.now), which latencies are timed on: an NTP step cannot stretch one. */
  steadyNow: () => number;
  /** The client keys (and admin token), searched for in every application header passed upstream; absent without keys. */
  clientKeys?: ClientKeyHeaders;
}

/** One path whose requests for the blue model are split: its arms' targets, how it names sticky ids, its stored state. */
export interface SplitPath {
  arms: Record<ArmName, ForwardTarget>;
  /** The sticky id in a request body (the x-bluegreen-sticky-key header wins over it). */
  stickyKeyOf: (body: Record<string, unknown>) => string | undefined;
  /** The Responses API's continuations, held on the arm that answered what they continue. */
  stored?: StoredResponses;
  /** Why the proxy cannot serve this request on this path (the 400's message), if it cannot. */
  refuses?: (body: Record<string, unknown>) => string | undefined;
  /** Its name in the figures (Prometheus's `path` label). */
  name: SplitPathName;
}

/** The body for one arm: `model` replaced and the arm's request adaptation applied; the rest as the application sent it. */
function forArm(parsed: Parsed, target: ForwardTarget): Buffer | string {
  return bodyForArm(parsed.raw, parsed.text, parsed.body, target);
}

/** The handler of `split`'s path: it calls `done` when a request is over (answered, or its client gone), or `bug` on an error of ours. */
export function chatHandler(ctx: ChatContext, split: SplitPath): BodyHandler {
  return (req, res, raw, done, bug) => new ChatExchange(ctx, split, req, res, raw, done, bug).start();
}

/**
 * One request's way through the proxy, as one object with callbacks rather than async functions: on the hot
 * path each await costs a suspended frame and a promise, and this path runs thousands of times a second.
 */
class ChatExchange {
  /** The request read; dropped once no further attempt can need it (see attempt). */
  private parsed?: Parsed;
  /** The request asks for a stream (kept when `parsed` is dropped: a client abort's result says it). */
  private stream = false;
  /** The application's headers to pass on, set by start() (not a new object here: it would be garbage at once). */
  private headers: Readonly<Record<string, string>> = NO_HEADERS;
  private readonly link = new ClientLink();
  private arm: ArmName = 'blue';
  /** The request's sticky id (user, conversation), which a client abort carries as a digest. */
  private sticky?: string;
  /** The attempt running: the first, or blue answering for green. */
  private fallingBack = false;
  /** Blue may answer for a failed green attempt (not for a continuation only green's upstream holds). */
  private fallback = false;
  /** The attempt under way; its figures are those of the stage in force when the first started: the whole request counts there. */
  private underWay?: Attempt;
  /** The upstream keeps the answer (not `store: false`): its response id is remembered, not only its items. */
  private keepsResponse = true;
  /** Stored state pinned it to blue, not the split (stored-responses.ts UNSPLIT): its result is neutral (neutral.ts). */
  private unsplit = false;
  /**
   * It refers to stored state on arms with separate state: blue cannot read green's, so blue refusing it too says
   * nothing of green's refusal (green lost its own state: a 404 from both), which is green's failure at once.
   */
  private blueCannotTell = false;
  /**
   * Green's plain client error while blue answers for it: neutral if blue refuses the request alike, green's failure
   * otherwise (settleRefusal). Its attempt stays under way meanwhile: a stage's end waits for it.
   */
  private greenRefusal?: { result: UpstreamResult; attempt: Attempt };
  /** Blue's answer, which a mirror copy's plain client error waits for; only for a request mirrored. */
  private mirrored?: BlueAnswer;

  constructor(
    private readonly ctx: ChatContext,
    private readonly split: SplitPath,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly raw: Buffer,
    private readonly done: () => void,
    private readonly bug: (error: unknown) => void,
  ) {}

  start(): void {
    const { ctx, req, res } = this;
    const parsed = parseRequestBody(this.raw);
    if (typeof parsed === 'string') {
      ctx.metrics.reject('bad_request');
      sendError(res, ctx.inbound, 'bad_request', parsed);
      return this.done();
    }
    // Gone while its body was read: nothing to forward.
    if (res.destroyed) return this.done();
    this.parsed = parsed;
    this.stream = parsed.stream;
    // The client going away cancels whatever is running for it upstream.
    this.link.follow(res);
    this.headers = forwardedHeaders(req.headers, ctx.clientKeys);
    const split = this.split;
    const { blue, green } = split.arms;
    const refused = split.refuses?.(parsed.body);
    if (refused !== undefined) {
      ctx.metrics.reject('bad_request');
      sendError(res, ctx.inbound, 'bad_request', refused);
      return this.done();
    }

    if (!ctx.splitModels.has(parsed.model)) {
      if (refusedOddModel(ctx, res, parsed.model)) return this.done();
      // Another model costs the operator's key too: only those the plan lets through go (docs/proxy.md).
      if (!passesThrough(ctx.passthrough, parsed.model)) {
        refuseModel(ctx, res, parsed.model);
        return this.done();
      }
      ctx.passedThrough?.(parsed.model);
      // Not the model under rollout: blue's upstream, body untouched (unless it names its model twice), not counted in either arm's figures.
      const request: ForwardRequest = { body: passthroughBody(this.raw, parsed.text, parsed.body), stream: parsed.stream, headers: this.headers };
      return passOutsideSplit(ctx, res, request, this.link, this.done, this.bug, blue);
    }

    const route = ctx.route.effective();
    const stored = split.stored;
    // A continuation goes where its stored state is (stored-responses.ts); anything else by the split.
    const pin = stored?.pinned(parsed.body, route.greenWeight);
    this.unsplit = pin === UNSPLIT;
    const pinned = pin === UNSPLIT ? 'blue' : pin;
    this.keepsResponse = StoredResponses.keepsResponse(parsed.body);
    this.sticky = stickyKey(parsed.body, req.headers, split.stickyKeyOf);
    this.arm = pinned ?? ctx.splitter.choose(route.greenWeight, this.sticky);
    this.fallback = ctx.fallback && (pinned !== 'green' || (stored as StoredResponses).sharedState);
    const refersToState = stored?.refersToState(parsed.body) === true;
    this.blueCannotTell = refersToState && stored?.sharedState === false;
    if (this.arm === 'blue' && route.mirror > 0 && !refersToState && ctx.random() < route.mirror) {
      this.mirrored = new BlueAnswer();
      ctx.mirror.send(green, { body: forArm(parsed, green), stream: parsed.stream, headers: mirrorHeaders(this.headers) }, split.name, this.mirrored);
    }
    try {
      this.attempt(this.arm === 'green' ? green : blue);
    } catch (error) {
      // The copy's refusal must not wait forever for blue's answer (it is under way: a stage's end waits for it).
      this.failedOurselves(error);
    }
  }

  /**
   * Where stored state holds `arm`'s answer for continuations: the arm, or UNSPLIT when the split did not choose it
   * (pinned outside the split, or blue answering for green): their continuations are neutral too (neutral.ts).
   */
  private holder(arm: ArmName): Pin {
    return this.unsplit || this.fallingBack ? UNSPLIT : arm;
  }

  /** The answer's tag: the arm chosen, or blue answering for green. */
  private tag(): AnswerTag {
    return this.fallingBack ? TAG_FALLBACK : this.arm === 'green' ? TAG_GREEN : TAG_BLUE;
  }

  /** One attempt on one arm, recorded when it ends (answered), or counted as a client abort. */
  private attempt(target: ForwardTarget): void {
    const { ctx } = this;
    const parsed = this.parsed as Parsed;
    const canFallBack = target.arm === 'green' && this.fallback && !this.fallingBack;
    // An idempotency key names one request to one arm (idempotency.ts): green's is derived from the application's.
    const headers = target.arm === 'green' ? greenHeaders(this.headers) : this.headers;
    const request: ForwardRequest = { body: forArm(parsed, target), stream: parsed.stream, headers, canFallBack };
    const stored = this.split.stored;
    if (stored && this.keepsResponse && parsed.stream) request.onResponseId = (id) => stored.remember(id, this.holder(target.arm));
    // No attempt can follow this one: the body's text and parsed tree are not kept through the upstream's wait
    // (seconds for a model; together twice a conversation's size, copied by every scavenge meanwhile, then promoted).
    if (!canFallBack) this.parsed = undefined;
    this.underWay = ctx.metrics.started(target.arm, parsed.stream, this.underWay, this.unsplit);
    forwardTo(target, request, responseSink(this.res, this.tag(), ctx.targets), ctx.steadyNow, this.link, this.answered, this.gone);
  }

  private readonly answered = (outcome: ForwardOutcome): void => {
    try {
      const { ctx } = this;
      if (!this.fallingBack && this.arm === 'green' && this.fallback && !outcome.committed && !outcome.result.ok) {
        // Whose a plain client error is, blue's answer to the same request says (settleRefusal).
        if (isPlainClientError(outcome.result) && !this.blueCannotTell) this.greenRefusal = { result: outcome.result, attempt: this.attemptUnderWay() };
        else ctx.metrics.finished(outcome.result, 'routed', this.attemptUnderWay(), this.split.name);
        ctx.metrics.fellBack(this.attemptUnderWay());
        this.fallingBack = true;
        // In a microtask: not from inside the failed exchange's own undici callback.
        queueMicrotask(() => {
          try {
            this.attempt(this.split.arms.blue);
          } catch (error) {
            this.failedOurselves(error);
          }
        });
        return;
      }
      // The client's answer first, the figures (quality checks, feed, histograms) after: they are not its wait.
      answer(ctx, this.res, outcome, this.tag());
      const { result } = outcome;
      if (result.ok) this.split.stored?.remember(this.keepsResponse ? outcome.responseId : undefined, this.holder(result.arm), outcome.itemIds);
      const blueRefused = result.arm === 'blue' && isPlainClientError(result);
      // Blue's plain client error is the client's own request, always: counted, a client could raise blue's baseline.
      if (this.unsplit || blueRefused) result.neutral = true;
      const verdict = blueRefused ? BLUE_REFUSED : BLUE_ANSWERED;
      this.settleRefusal(verdict);
      this.mirrored?.settle(verdict);
      ctx.metrics.finished(result, this.fallingBack ? 'fallback' : 'routed', this.attemptUnderWay(), this.split.name);
      this.done();
    } catch (error) {
      this.failedOurselves(error);
    }
  };

  /** Green's plain client error that blue answered for, recorded by blue's verdict (neutral.ts recordRefusal). */
  private settleRefusal(verdict: BlueVerdict): void {
    const refusal = this.greenRefusal;
    if (!refusal) return;
    this.greenRefusal = undefined;
    recordRefusal(this.ctx.metrics, refusal.result, verdict, 'routed', refusal.attempt, this.split.name);
  }

  /** An error of the proxy's own: the attempt under way ends in the in-flight counts (a stage's end waits for those), then `bug`. */
  private failedOurselves(error: unknown): void {
    // Blue's answer unknown by our fault, not the client's: a refusal waiting for it is green's failure (toward blue).
    this.settleRefusal(BLUE_ANSWERED);
    this.mirrored?.settle(BLUE_ANSWERED);
    if (this.underWay) this.ctx.metrics.abandon(this.underWay);
    this.bug(error);
  }

  /**
   * The client went away meanwhile: neither a success nor the arm's failure in the proxy's figures. Before the
   * first byte of the split's own attempt it also goes to the results feed as a client_abort, so a rollout sees
   * a green its clients give up on (blue's answer to a fallback is not judged, nor is its abort).
   */
  private readonly gone = (): void => {
    const { ctx, link } = this;
    // One client's many aborts are not its arm's failures alone (src/analysis/aborts.ts): say whose it was.
    const client = this.sticky ? stickyClient(this.sticky) : undefined;
    if (this.greenRefusal || this.mirrored) {
      // None of blue's output reached the client: its answer will never be known, and green's refusal (or its mirror
      // copy's) is this client's abort too, capped per client; blue answering (output sent) makes it green's failure.
      const verdict: BlueVerdict = link.abandonedAfterMs === undefined ? BLUE_ANSWERED : { kind: 'left', ...(client !== undefined && { client }) };
      this.settleRefusal(verdict);
      this.mirrored?.settle(verdict);
    }
    const age = this.fallingBack ? undefined : link.abandonedAfterMs;
    const abandoned =
      age === undefined ? undefined : abandonedResult({ arm: this.arm, model: ctx.targets.arms[this.arm].model, stream: this.stream, latencyMs: age });
    if (abandoned && client !== undefined) abandoned.client = client;
    if (abandoned && this.unsplit) abandoned.neutral = true;
    ctx.metrics.cancelled(this.fallingBack ? 'blue' : this.arm, this.attemptUnderWay(), abandoned);
    this.done();
  };

  private attemptUnderWay(): Attempt {
    return this.underWay as Attempt;
  }
}
