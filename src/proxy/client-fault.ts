// Which 4xx answers are the client's own bad request rather than the arm's failure (docs/proxy.md, "Fallback rules"):
// a client whose sticky id lands on green must not be able to roll a healthy green back with requests any model
// refuses, and one broken integration must not either.
import type { UpstreamResult } from '../upstream/types.js';

/**
 * A 4xx of the plain client-error kind (400, 404, 413, 422...): not the arm's key refused (401/403), its account
 * (402), nor capacity (408, 409, 429), which say something of the arm; nor a request undici refused to send (no status).
 */
export function isPlainClientError(result: UpstreamResult): boolean {
  const { status } = result;
  return !result.ok && result.failure === 'client_error' && status !== undefined && status >= 400 && status < 500 && status !== 409;
}

/** Marks a plain client error as the client's own (UpstreamResult.clientFault); any other result is left as it is. */
export function markClientFault(result: UpstreamResult): void {
  if (isPlainClientError(result)) result.clientFault = true;
}
