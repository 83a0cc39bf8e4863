// GET /v1/models: blue's upstream model list, passed through (the application's SDK may list models at start).
import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { readCapped } from '../core/read-capped.js';
import { answerEncoding, decodedHeaders, decodeWhole } from './answer-encoding.js';
import { onClientGone } from './client-link.js';
import type { InboundDialect } from './inbound.js';
import { isRedirect, passHeaders, sendBody, sendError } from './respond.js';
import type { Targets } from './targets.js';

export async function forwardModels(targets: Targets, res: ServerResponse, inbound: InboundDialect): Promise<void> {
  const blue = targets.arms.blue;
  // A client that goes away cancels the upstream request, as for a chat.
  const gone = new AbortController();
  onClientGone(res, () => gone.abort());
  try {
    const answer: Dispatcher.ResponseData = await blue.dispatcher.request({
      signal: gone.signal,
      origin: blue.origin,
      method: 'GET',
      path: targets.modelsPath,
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
          `blue's upstream listed models in a body that decodes to more than ${blue.maxResponseBytes} bytes (proxy.limits.max_response_bytes)`,
          { 'x-bluegreen-arm': 'blue' },
        );
      } else {
        return sendError(
          res,
          inbound,
          'unavailable',
          `blue's upstream listed models in a body the proxy could not decode (content-encoding: ${JSON.stringify(encoding.slice(0, 60))}; ${decoded.reason})`,
          { 'x-bluegreen-arm': 'blue' },
        );
      }
    }
    if (body === undefined) {
      return sendError(
        res,
        inbound,
        'unavailable',
        `blue's upstream listed models in more than ${blue.maxResponseBytes} bytes (proxy.limits.max_response_bytes)`,
        {
          'x-bluegreen-arm': 'blue',
        },
      );
    }
    if (answer.statusCode === 401 || answer.statusCode === 403) {
      return sendError(res, inbound, 'unavailable', `blue's upstream refused the proxy's credentials (${answer.statusCode}) listing models`, {
        'x-bluegreen-arm': 'blue',
      });
    }
    if (isRedirect(answer.statusCode)) {
      return sendError(
        res,
        inbound,
        'unavailable',
        `blue's upstream answered a redirect (${answer.statusCode}) listing models, which the proxy does not pass on`,
        {
          'x-bluegreen-arm': 'blue',
        },
      );
    }
    // An error body may quote the key; a model list is passed as it came.
    const ok = answer.statusCode >= 200 && answer.statusCode < 300;
    sendBody(
      res,
      answer.statusCode,
      passHeaders(headers, { arm: 'blue', fallback: false }, targets.headerKeys),
      ok && !targets.mayQuoteKey(body) ? body : targets.redactor.text(body.toString('utf8')),
    );
  } catch {
    if (gone.signal.aborted) return;
    sendError(res, inbound, 'unavailable', "blue's upstream could not be reached to list models", { 'x-bluegreen-arm': 'blue' });
  }
}
