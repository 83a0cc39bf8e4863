// The POST paths a proxy serves, each with its handler: the split paths (chat; the Responses API where both arms'
// upstreams have it) and the relayed ones (relay.ts); and with the Responses API, the paths of its stored state
// (stored-reads.ts). Built once at startup.
import { stickyKeyOf } from '../traffic/sampled-line.js';
import { chatHandler, type ChatContext, type SplitPath } from './chat.js';
import type { BodyHandler } from './intake.js';
import { relayHandler } from './relay.js';
import { storedPath, storedStateHandler, type StoredMethod } from './stored-reads.js';
import { refusesResponses, responsesStickyKey, StoredResponses } from './stored-responses.js';

export interface PostPaths {
  /** The chat path's handler (the hot path: the server finds it by one comparison). */
  chat: BodyHandler;
  /** Every other POST path served, by the path the application's SDK sends. */
  others: ReadonlyMap<string, BodyHandler>;
  /**
   * A path of the Responses API's stored state (GET /v1/responses/{id}...) or the Conversations API, when the
   * proxy serves the Responses API: the methods it takes and its handler (for any of them).
   */
  stored(path: string): { allow: readonly StoredMethod[]; handler: BodyHandler } | undefined;
  /** What the proxy serves, for a 404's message. */
  served: string;
  /** The message of a 404 for `path` when it is a path the proxy could serve on another plan's upstream. */
  unserved(path: string): string | undefined;
}

export function postPaths(ctx: ChatContext): PostPaths {
  const { inbound, targets } = ctx;
  // No async functions on the chat path: a suspended frame and a promise per await, thousands of times a second.
  const chatSplit: SplitPath = { arms: targets.arms, stickyKeyOf, name: 'chat' };
  const chat = chatHandler(ctx, chatSplit);
  const others = new Map<string, BodyHandler>();
  const responses = inbound.responsesPath;
  const responseTargets = responses === undefined ? undefined : targets.responses;
  // Which arm answered each response: continuations are held there, and reads by id go there.
  const stored = new StoredResponses(targets.sharedState);
  if (responses !== undefined && responseTargets) {
    const split: SplitPath = { arms: responseTargets, stickyKeyOf: responsesStickyKey, stored, refuses: refusesResponses, name: 'responses' };
    others.set(responses, chatHandler(ctx, split));
  }
  // The application's other model endpoints this proxy relays to blue's upstream (none for an Azure blue).
  for (const relayed of inbound.relayPaths) {
    const upstreamPath = targets.relayPaths.get(relayed.path);
    if (upstreamPath === undefined) continue;
    others.set(relayed.path, relayHandler(ctx, { ...relayed, upstreamPath }));
  }
  const storedPaths = responseTargets ? ', GET/DELETE /v1/responses/{id} (its /cancel, /input_items), /v1/conversations' : '';
  const served = `POST ${[inbound.chatPath, ...others.keys()].join(', POST ')}${storedPaths}, GET /v1/models (and /v1/models/{id}), GET /metrics and GET /healthz`;
  return {
    chat,
    others,
    stored: (path) => {
      const route = responseTargets && storedPath(path);
      return route ? { allow: route.allow, handler: storedStateHandler(ctx, responseTargets, stored, route) } : undefined;
    },
    served,
    // The Responses API on an OpenAI plan with an arm on an Azure deployments path: said why, not just 404.
    unserved: (path) =>
      responses !== undefined && !responseTargets && (path === responses || storedPath(path) !== undefined)
        ? `this proxy does not serve ${path}: an arm's upstream is an Azure deployments path, which has no Responses API (use the resource's /openai/v1 base URL); it serves ${served}`
        : undefined,
  };
}
