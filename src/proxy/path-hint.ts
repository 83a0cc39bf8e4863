// What a 404 adds for the paths an application's SDK sends when it is pointed at the wrong proxy or given the wrong
// base URL: the proxy's list of paths alone left a newcomer to work out that the SDK and the plan speak other
// dialects, or that the base URL lacks (or repeats) /v1.
import type { InboundDialect } from './inbound.js';

/** OpenAI's API paths an Anthropic plan's proxy does not serve (its relayed and split paths on an OpenAI plan). */
const OPENAI_PATHS = ['/v1/chat/completions', '/v1/responses', '/v1/embeddings', '/v1/moderations', '/v1/completions'];

export function pathHint(inbound: InboundDialect, path: string): string | undefined {
  // The other dialect is said first, whatever the base URL did to /v1 (one /v1 too few or too many): fixing the
  // base URL alone would only lead to the next 404 (newuser33: an OpenAI SDK given the Anthropic demo's address).
  const v1 = path.startsWith('/v1/v1/') ? path.slice('/v1'.length) : path.startsWith('/v1/') ? path : `/v1${path}`;
  if (inbound.api === 'anthropic') {
    if (OPENAI_PATHS.some((openai) => v1 === openai || v1.startsWith(`${openai}/`)))
      return "that is OpenAI's API, and this proxy speaks Anthropic's (its plan's upstream.api) without translating: an OpenAI SDK needs a proxy of a plan whose upstream.api is openai (or azure)";
  } else if (v1 === '/v1/messages' || v1.startsWith('/v1/messages/'))
    return "that is Anthropic's Messages API, and this proxy speaks OpenAI's (its plan's upstream.api) without translating: an Anthropic SDK needs a proxy of a plan whose upstream.api is anthropic";
  if (path.startsWith('/v1/v1/'))
    return "its path has /v1 twice: the base URL ends in /v1 and the SDK adds its own (the Anthropic SDK takes the proxy's address without /v1)";
  if (inbound.api !== 'anthropic' && OPENAI_PATHS.some((openai) => path === openai.slice('/v1'.length)))
    return "the OpenAI SDK's base URL ends in /v1 (http://HOST:PORT/v1)";
  return undefined;
}
