// The application's other model endpoints (embeddings, moderations, legacy completions; Anthropic's token
// count): relayed to blue's upstream with the operator's key, the answer passed back as it comes and not read.
// They are not what a rollout judges, so they are counted as passthrough and never split; a model the plan's
// proxy.passthrough refuses is refused here too, so the proxy is no more a relay for them than for chat.
import { passOutsideSplit, refusedOddModel, refuseModel } from './answer.js';
import type { ChatContext } from './chat.js';
import { passesThrough } from './config.js';
import { ClientLink } from './client-link.js';
import type { RelayPath } from './inbound.js';
import type { BodyHandler } from './intake.js';
import { forwardedHeaders, sendError } from './respond.js';
import { parseRequestBody } from './request-json.js';
import { bodyWithModel, passthroughBody } from './rewrite.js';

/** Where one relayed path goes: the application's path and its path on blue's pool. */
export interface RelayRoute extends RelayPath {
  upstreamPath: string;
}

/** The handler of `route`'s path: it calls `done` when a request is over (answered, or its client gone), or `bug` on an error of ours. */
export function relayHandler(ctx: ChatContext, route: RelayRoute): BodyHandler {
  return (req, res, raw, done, bug) => {
    const parsed = parseRequestBody(raw);
    if (typeof parsed === 'string') {
      ctx.metrics.reject('bad_request');
      sendError(res, ctx.inbound, 'bad_request', parsed);
      return done();
    }
    if (res.destroyed) return done();
    const blue = ctx.targets.arms.blue;
    let body: Buffer | string;
    if (ctx.splitModels.has(parsed.model)) {
      if (!route.takesSplitModel) {
        ctx.metrics.reject('bad_request');
        sendError(
          res,
          ctx.inbound,
          'bad_request',
          `${JSON.stringify(parsed.model)} is the model under rollout: this proxy splits it on POST ${ctx.inbound.chatPath}${ctx.targets.responses && ctx.inbound.responsesPath ? ` and POST ${ctx.inbound.responsesPath}` : ''} only, and passes ${route.path} requests for other models`,
        );
        return done();
      }
      body = bodyWithModel(raw, parsed.text, parsed.body, blue.bodyModel);
    } else if (refusedOddModel(ctx, res, parsed.model)) {
      return done();
    } else if (passesThrough(ctx.passthrough, parsed.model)) {
      body = passthroughBody(raw, parsed.text, parsed.body);
    } else {
      refuseModel(ctx, res, parsed.model);
      return done();
    }
    const link = new ClientLink();
    link.follow(res);
    passOutsideSplit(
      ctx,
      res,
      { body, stream: parsed.stream, headers: forwardedHeaders(req.headers, ctx.clientKeys), path: route.upstreamPath, unread: true },
      link,
      done,
      bug,
    );
  };
}
