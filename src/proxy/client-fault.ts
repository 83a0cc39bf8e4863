// Which 4xx answers are the client's own bad request rather than the arm's failure (docs/proxy.md, "Fallback rules"):
// a client whose sticky id lands on green must not be able to roll a healthy green back with requests any model
// refuses, and one broken integration must not either. Green's is the client's when blue refuses the request alike,
// blue's when green could have been asked it too (fallback on, and not a continuation only blue's stored state can
// answer, as green's pinned to its own state cannot fall back), so green is charged exactly for the 4xx blue would
// not give. Set only with fallback on: without it green's cannot be checked, and excusing blue's alone would judge
// green the worse. Excused is no error, not no latency: such a result stays in the latency samples (ArmRecorder).
// Whose it was is blue's status's to say: blue's request asked it outlives its client until that status is in
// (ForwardRequest.holdFor), so leaving at a chosen moment charges neither arm.
import type { UpstreamResult } from '../upstream/types.js';
import { classifyStatus } from '../upstream/classify.js';

/**
 * A 4xx of the plain client-error kind (400, 404, 413, 422...): not the arm's key refused (401/403), its account
 * (402), nor capacity (408, 409, 429), which say something of the arm; nor a request undici refused to send (no status).
 */
export function isPlainClientError(result: UpstreamResult): boolean {
  const { status } = result;
  return !result.ok && result.failure === 'client_error' && status !== undefined && isPlainClientErrorStatus(status);
}

/** A status whose answer is a plain client error (isPlainClientError): what a 4xx's class is, its body cannot change. */
export function isPlainClientErrorStatus(status: number): boolean {
  return status >= 400 && status < 500 && status !== 409 && classifyStatus(status, {}) === 'client_error';
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
