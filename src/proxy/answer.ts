// Answering the application from a forwarded outcome (the upstream's answer as it came, or the proxy's own error
// in the dialect's shape when there is none it may pass on), and the requests blue's upstream answers outside the
// split: another model, a relayed path, a model the plan does not let through.
import type { ServerResponse } from 'node:http';
import { oddModelName } from '../core/model-name.js';
import type { ArmName } from '../plan/plan.js';
import type { ChatContext } from './chat.js';
import type { ClientLink } from './client-link.js';
import { forwardTo } from './forward.js';
import type { ForwardOutcome, ForwardRequest, ForwardTarget } from './forward-types.js';
import { isRedirect, passHeaders, responseSink, sendError, sendWhole, type AnswerTag } from './respond.js';

// The arm's tag on an answer, shared (one per case) rather than built per request.
export const TAG_BLUE: AnswerTag = Object.freeze({ arm: 'blue', fallback: false });
export const TAG_GREEN: AnswerTag = Object.freeze({ arm: 'green', fallback: false });
export const TAG_FALLBACK: AnswerTag = Object.freeze({ arm: 'blue', fallback: true });

/**
 * A request answered outside the split (another model or a relayed path, by blue's upstream; a stored response read
 * by id, by the upstream of the arm that holds it): counted as passthrough, in neither arm's figures, its answer sent
 * as it comes and tagged with the target's arm. `done` when it is over, `bug` on an error of ours.
 */
export function passOutsideSplit(
  ctx: ChatContext,
  res: ServerResponse,
  request: ForwardRequest,
  link: ClientLink,
  done: () => void,
  bug: (error: unknown) => void,
  /** The target: blue's on the request's path unless given (a relayed request names its own path). */
  blue: ForwardTarget = ctx.targets.arms.blue,
): void {
  ctx.metrics.passedThrough();
  const tag = blue.arm === 'green' ? TAG_GREEN : TAG_BLUE;
  const answered = (outcome: ForwardOutcome): void => {
    try {
      answer(ctx, res, outcome, tag);
      done();
    } catch (error) {
      bug(error);
    }
  };
  forwardTo(blue, request, responseSink(res, tag, ctx.targets), ctx.steadyNow, link, answered, done);
}

/** A model name as a refusal quotes it: at most 100 characters. */
function quoted(model: string): string {
  return JSON.stringify(model.length > 100 ? `${model.slice(0, 100)}...` : model);
}

/**
 * A model not under rollout whose name no model has (a control or invisible character, a space at either end):
 * refused with 400 rather than passed through, and true then. The proxy splits only the exact name, so "gpt-4o "
 * would pass untouched to blue's upstream, and one that trims names would serve the model under rollout for it,
 * outside the split. Asked only of names the split does not take: nothing more for the requests it splits.
 */
export function refusedOddModel(ctx: ChatContext, res: ServerResponse, model: string): boolean {
  const odd = oddModelName(model);
  if (odd === undefined) return false;
  ctx.metrics.reject('bad_request');
  sendError(
    res,
    ctx.inbound,
    'bad_request',
    `The model ${quoted(model)} ${odd}: no model's name does, and an upstream that trims or drops such characters could serve another model for it outside this proxy's split; ask for the model by its exact name`,
  );
  return true;
}

/** A model neither under rollout nor in proxy.passthrough: 404 as the upstream would answer a model it does not serve. */
export function refuseModel(ctx: ChatContext, res: ServerResponse, model: string): void {
  ctx.metrics.reject('model_not_allowed');
  sendError(
    res,
    ctx.inbound,
    'model_not_found',
    `The model ${quoted(model)} is not served by this proxy: it routes ${[...ctx.splitModels].map((m) => JSON.stringify(m)).join(', ')}; ${ctx.otherModels}`,
  );
}

/** Sends what the upstream answered, unless it already went out as a stream. */
export function answer(ctx: ChatContext, res: ServerResponse, outcome: ForwardOutcome, tag: AnswerTag): void {
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
  if (isRedirect(response.status)) {
    sendError(
      res,
      ctx.inbound,
      'unavailable',
      `the ${arm} upstream answered a redirect (${response.status}), which the proxy does not pass on`,
      passHeaders({}, tag),
    );
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
