// Which results leave every judged sample of their arm (docs/proxy.md, "Neutral results"). A client with a proxy key
// can pick its arm (its sticky id, and x-bluegreen-arm tells it where it landed): any accounting that counts a result
// on one arm alone is one it can steer. So a result is neutral only where it says nothing of the arm:
// - blue's plain client error: the client's own request (counted, a client could raise blue's baseline);
// - green's plain client error when blue refused the same request with one too (the fallback's answer, or for a
//   mirror copy the original's): green's failure otherwise, and when blue's answer is unknown (toward blue);
// - a request stored state pinned to blue that the split never chose (stored-responses.ts, UNSPLIT).
import { classifyStatus } from '../upstream/classify.js';
import type { UpstreamResult } from '../upstream/types.js';

/**
 * A 4xx of the plain client-error class (400, 404, 413, 422...): not the arm's key or account (401, 402, 403), nor
 * capacity or a conflict (408, 409, 429), which say something of the arm.
 */
export function isPlainClientErrorStatus(status: number): boolean {
  return status >= 400 && status < 500 && status !== 409 && classifyStatus(status, {}) === 'client_error';
}

/** The result is an answer with a plain client-error status (not a request undici refused to send: no status). */
export function isPlainClientError(result: UpstreamResult): boolean {
  const { status } = result;
  return !result.ok && result.failure === 'client_error' && status !== undefined && isPlainClientErrorStatus(status);
}

/**
 * Blue's answer to a request mirrored to green, which the copy's plain client error waits for: neutral when blue
 * refused the request alike, green's failure otherwise (blue answered it, or its answer will never be known: the
 * client left, an error of the proxy's own). Made only for a request mirrored.
 */
export class BlueAnswer {
  private refused?: boolean;
  private waiting?: (refused: boolean) => void;

  /** Blue's answer is in (or never will be): `refused`, a plain client error. Once; later calls change nothing. */
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
