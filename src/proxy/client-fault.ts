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

/**
 * Blue's answer to a request mirrored to green, which the copy's plain client error waits for: the client's own when
 * blue refused the request alike, green's failure otherwise (blue answered it, or its answer is unknown: the client
 * went away, toward blue). Made only for a request mirrored.
 */
export class BlueRefusal {
  private refused?: boolean;
  private waiting?: (refused: boolean) => void;

  /** Blue's answer is in (or will never be): `refused`, it was the client's own error. Once; later calls change nothing. */
  settle(refused: boolean): void {
    if (this.refused !== undefined) return;
    this.refused = refused;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.(refused);
  }

  /** Calls `then` with whether blue refused: now if known, else once it is. */
  whenSettled(then: (refused: boolean) => void): void {
    if (this.refused !== undefined) then(this.refused);
    else this.waiting = then;
  }
}
