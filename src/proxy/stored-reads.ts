// What the Responses API stores upstream, read or changed by id: GET and DELETE /v1/responses/{id}, POST
// /v1/responses/{id}/cancel, GET /v1/responses/{id}/input_items go to the arm whose upstream holds that response
// (the arm that answered it, stored-responses.ts; blue when unknown; forgotten once a DELETE of it succeeds), and
// the Conversations API (/v1/conversations...) to blue, where conversations live. Passed through untouched: not
// split, not judged, counted as passthrough, the operator's key on them and the application's never, the answer
// sent as it comes (upstream keys cut out of it) like a relayed path's.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { passOutsideSplit } from './answer.js';
import type { ChatContext } from './chat.js';
import { ClientLink } from './client-link.js';
import type { ForwardTarget } from './forward-types.js';
import type { BodyHandler } from './intake.js';
import { forwardedHeaders, sendError } from './respond.js';
import type { StoredResponses } from './stored-responses.js';
import { isObject } from '../upstream/shape.js';

export type StoredMethod = 'GET' | 'POST' | 'DELETE';

/** One stored-state path the application asked for. */
export interface StoredPath {
  /** The methods it takes: another is a 405. */
  allow: readonly StoredMethod[];
  /** The response it names, read on the arm holding it; none for the Conversations API (blue's). */
  responseId?: string;
  /** The path after /v1 (`/responses/resp_1/input_items`), put after the upstream's base. */
  rest: string;
}

/** An id as the APIs give them (resp_..., conv_..., msg_...): nothing that could walk the upstream's path. */
const ID = '[A-Za-z0-9_-]{1,256}';
const RESPONSE = new RegExp(`^/v1/responses/(${ID})(/cancel|/input_items)?$`);
const CONVERSATION = new RegExp(`^/v1/conversations(?:/${ID}(/items(?:/${ID})?)?)?$`);

/** The stored-state path `path` is, if it is one (the Responses API's /v1/responses/input_tokens is relayed, not this). */
export function storedPath(path: string): StoredPath | undefined {
  const response = RESPONSE.exec(path);
  if (response) {
    const action = response[2];
    const allow: StoredMethod[] = action === '/cancel' ? ['POST'] : action === '/input_items' ? ['GET'] : ['GET', 'DELETE'];
    return { allow, responseId: response[1] as string, rest: path.slice(3) };
  }
  const conversation = CONVERSATION.exec(path);
  if (!conversation) return undefined;
  // /conversations: create; /{id}: read, update, delete; /{id}/items: list, add; /{id}/items/{item}: read, delete.
  const depth = path.split('/').length - 3;
  const allow: StoredMethod[] = depth === 0 ? ['POST'] : depth === 1 ? ['GET', 'POST', 'DELETE'] : depth === 2 ? ['GET', 'POST'] : ['GET', 'DELETE'];
  return { allow, rest: path.slice(3) };
}

/**
 * Query parameters these endpoints take (paging, include, a background response's stream resumed), passed on; any
 * other is dropped, as every other path's query is, and the upstream's own (Azure's api-version) is kept.
 */
const QUERY_NAMES = new Set(['after', 'before', 'limit', 'order', 'include', 'include[]', 'stream', 'starting_after', 'include_obfuscation']);

/** The upstream's path for `rest` beside the arm's Responses path (`{base}/responses`), with the allowed query. */
function upstreamPath(target: ForwardTarget, rest: string, query: URLSearchParams): string {
  const [pathname = '', search = ''] = target.chatPath.split('?', 2);
  const base = pathname.slice(0, -'/responses'.length);
  const params = new URLSearchParams(search);
  for (const [name, value] of query) if (QUERY_NAMES.has(name)) params.append(name, value);
  const text = params.toString();
  return `${base}${rest}${text === '' ? '' : `?${text}`}`;
}

/** The handler of stored-state paths, on each arm's Responses target (`responses`). */
export function storedStateHandler(
  ctx: ChatContext,
  responses: Record<'blue' | 'green', ForwardTarget>,
  stored: StoredResponses,
  path: StoredPath,
): BodyHandler {
  return (req: IncomingMessage, res: ServerResponse, raw: Buffer, done: () => void, bug: (error: unknown) => void): void => {
    if (res.destroyed) return done();
    if (raw.length > 0 && !isJsonObject(raw)) {
      ctx.metrics.reject('bad_request');
      sendError(res, ctx.inbound, 'bad_request', 'the request body must be a JSON object');
      return done();
    }
    const target = responses[path.responseId === undefined ? 'blue' : stored.armOf(path.responseId)];
    const query = new URLSearchParams((req.url ?? '').split('?', 2)[1] ?? '');
    const link = new ClientLink();
    link.follow(res);
    const request = {
      method: req.method as StoredMethod,
      body: raw.length > 0 ? raw : undefined,
      // A background response's events, resumed with ?stream=true.
      stream: query.get('stream') === 'true',
      headers: forwardedHeaders(req.headers, ctx.clientKeys),
      path: upstreamPath(target, path.rest, query),
      unread: true,
    };
    const responseId = path.responseId;
    // A response deleted upstream (its DELETE answered 2xx) is forgotten: its arm holds nothing for it any more.
    const deleted =
      request.method === 'DELETE' && responseId !== undefined
        ? () => {
            if (res.headersSent && res.statusCode >= 200 && res.statusCode < 300) stored.forget(responseId);
            done();
          }
        : done;
    passOutsideSplit(ctx, res, request, link, deleted, bug, target);
  };
}

function isJsonObject(raw: Buffer): boolean {
  try {
    return isObject(JSON.parse(raw.toString('utf8')));
  } catch {
    return false;
  }
}
