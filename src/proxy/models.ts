// GET /v1/models: blue's upstream model list, passed through (the application's SDK may list models at start); and
// GET /v1/models/{id} (the SDKs' models.retrieve), blue's upstream's entry for one model: the model under rollout as
// the list shows it (an alias answered as blue's model, under the alias's name and display name), any other id as blue's upstream
// answers it (an unknown one is its 404, in its dialect, which the proxy speaks).
import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { readCapped } from '../core/read-capped.js';
import { answerEncoding, decodedHeaders, decodeWhole } from './answer-encoding.js';
import { onClientGone } from './client-link.js';
import { answerText } from './answer-text.js';
import type { InboundDialect } from './inbound.js';
import { isRedirect, passHeaders, sendBody, sendError } from './respond.js';
import type { Targets } from './targets.js';

/** One model asked for by id: `upstreamId` is the one blue's upstream is asked for (blue's model, for an alias). */
export interface ModelAsked {
  id: string;
  upstreamId: string;
}

export async function forwardModels(targets: Targets, res: ServerResponse, inbound: InboundDialect, model?: ModelAsked): Promise<void> {
  const blue = targets.arms.blue;
  const [listPath = '', query] = targets.modelsPath.split('?', 2);
  const path = model === undefined ? targets.modelsPath : `${listPath}/${encodeURIComponent(model.upstreamId)}${query === undefined ? '' : `?${query}`}`;
  // How the errors below say what was asked.
  const asked = model === undefined ? 'listed models' : `answered for model ${JSON.stringify(model.id)}`;
  const asking = model === undefined ? 'listing models' : `reading model ${JSON.stringify(model.id)}`;
  // A client that goes away cancels the upstream request, as for a chat.
  const gone = new AbortController();
  onClientGone(res, () => gone.abort());
  try {
    const answer: Dispatcher.ResponseData = await blue.dispatcher.request({
      signal: gone.signal,
      origin: blue.origin,
      method: 'GET',
      path,
      headers: { ...blue.headers, accept: 'application/json' },
      headersTimeout: blue.timeouts.requestMs,
      bodyTimeout: blue.timeouts.requestMs,
    });
    let body = await readCapped(answer.body, blue.maxResponseBytes);
    let headers = answer.headers;
    // Compressed though asked for identity: decoded, so an echoed key is still found (answer-encoding.ts).
    const encoding = body === undefined ? undefined : answerEncoding(answer.statusCode, headers);
    if (encoding !== undefined) {
      const decoded = decodeWhole(encoding, body as Buffer, blue.maxResponseBytes);
      headers = decodedHeaders(headers);
      if ('body' in decoded) body = decoded.body;
      else if (decoded.tooLarge) {
        return sendError(
          res,
          inbound,
          'unavailable',
          `blue's upstream ${asked} in a body that decodes to more than ${blue.maxResponseBytes} bytes (proxy.limits.max_response_bytes)`,
          { 'x-bluegreen-arm': 'blue' },
        );
      } else {
        return sendError(
          res,
          inbound,
          'unavailable',
          `blue's upstream ${asked} in a body the proxy could not decode (content-encoding: ${JSON.stringify(encoding.slice(0, 60))}; ${decoded.reason})`,
          { 'x-bluegreen-arm': 'blue' },
        );
      }
    }
    if (body === undefined) {
      return sendError(res, inbound, 'unavailable', `blue's upstream ${asked} in more than ${blue.maxResponseBytes} bytes (proxy.limits.max_response_bytes)`, {
        'x-bluegreen-arm': 'blue',
      });
    }
    if (answer.statusCode === 401 || answer.statusCode === 403) {
      return sendError(res, inbound, 'unavailable', `blue's upstream refused the proxy's credentials (${answer.statusCode}) ${asking}`, {
        'x-bluegreen-arm': 'blue',
      });
    }
    if (isRedirect(answer.statusCode)) {
      return sendError(res, inbound, 'unavailable', `blue's upstream answered a redirect (${answer.statusCode}) ${asking}, which the proxy does not pass on`, {
        'x-bluegreen-arm': 'blue',
      });
    }
    // An error body may quote the key; a model list is passed as it came.
    const ok = answer.statusCode >= 200 && answer.statusCode < 300;
    const passed = ok && !targets.mayQuoteKey(answerText(body)) ? body : targets.redactor.text(body.toString('utf8'));
    sendBody(
      res,
      answer.statusCode,
      passHeaders(headers, { arm: 'blue', fallback: false }, targets.headerKeys),
      ok && model !== undefined && model.id !== model.upstreamId ? renamed(passed, model.id) : passed,
    );
  } catch {
    if (gone.signal.aborted) return;
    sendError(
      res,
      inbound,
      'unavailable',
      `blue's upstream could not be reached ${model === undefined ? 'to list models' : `to read model ${JSON.stringify(model.id)}`}`,
      {
        'x-bluegreen-arm': 'blue',
      },
    );
  }
}

/**
 * Blue's model entry under the alias asked for (the proxy serves the alias as blue's model): its `id`, and its
 * `display_name` where it has one (Anthropic's entries), are the alias. The application names the alias, which serves blue or green as
 * the rollout goes (green alone once promoted): blue's name shown for it (a model picker's label) would be untrue.
 */
function renamed(body: Buffer | string, id: string): Buffer | string {
  try {
    const entry = JSON.parse(body.toString()) as unknown;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry) || typeof (entry as { id?: unknown }).id !== 'string') return body;
    const named = typeof (entry as { display_name?: unknown }).display_name === 'string';
    return JSON.stringify({ ...entry, id, ...(named && { display_name: id }) });
  } catch {
    // Not JSON: passed as it came.
    return body;
  }
}
