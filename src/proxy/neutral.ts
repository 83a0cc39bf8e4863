// Which results leave every judged sample of their arm (docs/proxy.md, "Neutral results"). A client with a proxy key
// can pick its arm (its sticky id, and x-bluegreen-arm tells it where it landed): any accounting that counts a result
// on one arm alone is one it can steer. So a result is neutral only where it says nothing of the arm:
// - blue's plain client error: the client's own request (counted, a client could raise blue's baseline);
// - green's plain client error when blue refused the same request with one too (the fallback's answer, or for a
//   mirror copy the original's): green's failure otherwise (toward blue), but a client abort when its client left
//   before blue's answer (a client closing at once must not make each refusal an uncapped green failure), and
//   green's failure at once when the request refers to stored state on arms with separate state (blue, which
//   cannot read green's responses, refusing it proves nothing);
// - a request stored state pinned to blue that the split never chose (stored-responses.ts, UNSPLIT).
import { classifyStatus } from '../upstream/classify.js';
import type { UpstreamResult } from '../upstream/types.js';
import { abandonedResult } from './forward-result.js';
import type { Attempt, ProxyMetrics, ResultKind, SplitPathName } from './metrics.js';

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
 * What blue's answer to the same request says of green's plain client error: `refused` (a plain client error too),
 * `answered` (answered it, failed otherwise, or an error of the proxy's own), or `left`: its client went away first,
 * so it will never be known (`client`: the client's digest, stickyClient, when it has a sticky id).
 */
export type BlueVerdict = { readonly kind: 'refused' } | { readonly kind: 'answered' } | { readonly kind: 'left'; readonly client?: string };

export const BLUE_REFUSED: BlueVerdict = Object.freeze({ kind: 'refused' });
export const BLUE_ANSWERED: BlueVerdict = Object.freeze({ kind: 'answered' });

/**
 * Green's plain client error recorded by blue's verdict on the same request: neutral when blue refused it alike,
 * green's failure when blue answered it; when its client left first, a client abort carrying the client's digest
 * (at the refusal's age), which a rollout caps per client (src/analysis/aborts.ts) as any of its aborts.
 */
export function recordRefusal(
  metrics: ProxyMetrics,
  refusal: UpstreamResult,
  blue: BlueVerdict,
  kind: ResultKind,
  attempt: Attempt,
  path: SplitPathName,
): void {
  if (blue.kind === 'left') {
    const abandoned = abandonedResult({ arm: 'green', model: refusal.model, stream: refusal.stream, latencyMs: refusal.latencyMs });
    if (blue.client !== undefined) abandoned.client = blue.client;
    return metrics.cancelled('green', attempt, abandoned, kind);
  }
  if (blue.kind === 'refused') refusal.neutral = true;
  metrics.finished(refusal, kind, attempt, path);
}

/**
 * Blue's answer to a request mirrored to green, which the copy's plain client error waits for (recordRefusal). Made
 * only for a request mirrored.
 */
export class BlueAnswer {
  private verdict?: BlueVerdict;
  private waiting?: (verdict: BlueVerdict) => void;

  /** Blue's answer is in (or never will be). Once; later calls change nothing. */
  settle(verdict: BlueVerdict): void {
    if (this.verdict !== undefined) return;
    this.verdict = verdict;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.(verdict);
  }

  /** Calls `then` with blue's verdict: now if known, else once it is. */
  whenSettled(then: (verdict: BlueVerdict) => void): void {
    if (this.verdict !== undefined) then(this.verdict);
    else this.waiting = then;
  }
}
