// One chat request from the application: parse, choose the arm, forward (streaming through), fall back to
// blue when green fails before its first byte, mirror to green in the background, and record the figures.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ArmName } from '../plan/plan.js';
import type { ArmSplitter } from '../split/splitter.js';
import { isObject } from '../upstream/shape.js';
import { ClientLink, forward, type ForwardOutcome, type ForwardRequest, type ForwardTarget } from './forward.js';
import { stickyKey, type InboundDialect } from './inbound.js';
import type { ProxyMetrics } from './metrics.js';
import type { Mirror } from './mirror.js';
import { bodyForArm } from './rewrite.js';
import { forwardedHeaders, passHeaders, responseSink, sendError, sendWhole, type AnswerTag } from './respond.js';
import type { RouteHolder } from './route.js';
import { passesThrough, type Passthrough } from './config.js';
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
  /** Other models sent to blue's upstream untouched; the rest are refused. */
  passthrough: Passthrough;
  fallback: boolean;
  random: () => number;
  now: () => number;
}

interface Parsed {
  raw: Buffer;
  text: string;
  body: Record<string, unknown>;
  model: string;
  stream: boolean;
}

function parse(raw: Buffer): Parsed | string {
  const text = raw.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'the request body is not valid JSON';
  }
  if (!isObject(value)) return 'the request body must be a JSON object';
  if (typeof value.model !== 'string' || value.model === '') return 'the request must name a model (a non-empty string)';
  return { raw, text, body: value, model: value.model, stream: value.stream === true };
}

/** The body for one arm: `model` replaced and the arm's request adaptation applied; the rest as the application sent it. */
function forArm(parsed: Parsed, target: ForwardTarget): Buffer | string {
  return bodyForArm(parsed.raw, parsed.text, parsed.body, target);
}

export async function handleChat(ctx: ChatContext, req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
  const parsed = parse(raw);
  if (typeof parsed === 'string') {
    ctx.metrics.reject('bad_request');
    return sendError(res, ctx.inbound, 'bad_request', parsed);
  }
  // Gone while its body was read: nothing to forward.
  if (res.destroyed) return;
  // The client going away cancels whatever is running for it upstream.
  const link = new ClientLink();
  res.once('close', () => {
    if (!res.writableFinished) link.gone(new Error('the client went away'));
  });
  const headers = forwardedHeaders(req.headers);
  const { blue, green } = ctx.targets.arms;

  if (!ctx.splitModels.has(parsed.model)) {
    // Another model costs the operator's key too: only those the plan lets through go (docs/proxy.md).
    if (!passesThrough(ctx.passthrough, parsed.model)) return refuseModel(ctx, res, parsed.model);
    // Not the model under rollout: blue's upstream, body untouched, not counted in either arm's figures.
    ctx.metrics.passedThrough();
    const request: ForwardRequest = { body: raw, stream: parsed.stream, headers };
    await forward(blue, request, responseSink(res, { arm: 'blue', fallback: false }, ctx.targets), ctx.now, link).then(
      (outcome) => answer(ctx, res, outcome, { arm: 'blue', fallback: false }),
      () => undefined,
    );
    return;
  }

  const route = ctx.route.effective();
  const arm = ctx.splitter.choose(route.greenWeight, stickyKey(parsed.body, req.headers));
  if (arm === 'blue' && route.mirror > 0 && ctx.random() < route.mirror) {
    ctx.mirror.send({ body: forArm(parsed, green), stream: parsed.stream, headers });
  }
  const first = await attempt(ctx, res, arm === 'green' ? green : blue, parsed, headers, link, false);
  if (!first) return;
  if (arm === 'green' && ctx.fallback && !first.committed && !first.result.ok) {
    ctx.metrics.finished(first.result, 'routed');
    ctx.metrics.fellBack();
    const second = await attempt(ctx, res, blue, parsed, headers, link, true);
    if (!second) return;
    answer(ctx, res, second, { arm: 'blue', fallback: true });
    ctx.metrics.finished(second.result, 'fallback');
    return;
  }
  // The client's answer first, the figures (quality checks, feed, histograms) after: they are not its wait.
  answer(ctx, res, first, { arm, fallback: false });
  ctx.metrics.finished(first.result, 'routed');
}

/** A model neither under rollout nor in proxy.passthrough: 404 as the upstream would answer a model it does not serve. */
function refuseModel(ctx: ChatContext, res: ServerResponse, model: string): void {
  ctx.metrics.reject('model_not_allowed');
  const name = model.length > 100 ? `${model.slice(0, 100)}...` : model;
  sendError(
    res,
    ctx.inbound,
    'model_not_found',
    `The model ${JSON.stringify(name)} is not served by this proxy: it routes ${[...ctx.splitModels].map((m) => JSON.stringify(m)).join(', ')}; other models pass only when the plan's proxy.passthrough lists them`,
  );
}

/** One attempt on one arm, not yet recorded (the caller records it); undefined when the client went away meanwhile. */
async function attempt(
  ctx: ChatContext,
  res: ServerResponse,
  target: ForwardTarget,
  parsed: Parsed,
  headers: Record<string, string>,
  link: ClientLink,
  isFallback: boolean,
): Promise<ForwardOutcome | undefined> {
  const canFallBack = target.arm === 'green' && ctx.fallback && !isFallback;
  const request: ForwardRequest = { body: forArm(parsed, target), stream: parsed.stream, headers, canFallBack };
  ctx.metrics.started(target.arm);
  try {
    return await forward(target, request, responseSink(res, { arm: target.arm, fallback: isFallback }, ctx.targets), ctx.now, link);
  } catch {
    ctx.metrics.cancelled(target.arm);
    return undefined;
  }
}

/** Sends what the upstream answered, unless it already went out as a stream. */
function answer(ctx: ChatContext, res: ServerResponse, outcome: ForwardOutcome, tag: AnswerTag): void {
  if (outcome.committed) return;
  const arm: ArmName = tag.arm;
  const response = outcome.response;
  if (!response) {
    const failure = outcome.result.failure;
    const what =
      failure === 'timeout'
        ? 'did not answer in time'
        : failure === 'bad_response'
          ? `gave no answer the proxy could pass on (${outcome.result.errorMessage ?? 'bad response'})`
          : 'could not be reached';
    sendError(res, ctx.inbound, failure === 'timeout' ? 'timeout' : 'unavailable', `the ${arm} upstream ${what}`, passHeaders({}, tag));
    return;
  }
  if (response.status === 401 || response.status === 403) {
    // The upstream refused the proxy's key, not the application's: a 401 would blame the wrong key, and the
    // body may quote part of the upstream key.
    sendError(
      res,
      ctx.inbound,
      'unavailable',
      `the ${arm} upstream refused the proxy's credentials (${response.status}); the operator must check the upstream key`,
      passHeaders({}, tag),
    );
    return;
  }
  sendWhole(res, response, tag, ctx.targets);
}
