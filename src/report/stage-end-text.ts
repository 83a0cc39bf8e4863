// A stage's end waiting for the requests sent in it, in words: the line reporter and the dashboard say the same.
import type { RolloutSnapshot } from '../engine/types.js';
import { formatDuration, formatPlural } from '../core/format.js';

/**
 * "waiting for 14 requests in flight (up to 4m03s)" ("in flight at the proxies" for live traffic's; "..., of any stage,
 * before the promotion" at the last stage's end) as at `now` (the bound counts down from the snapshot's
 * updatedAt); undefined when no stage's end is waiting.
 */
export function stageEndWaitText(snapshot: RolloutSnapshot, now: number): string | undefined {
  const wait = snapshot.stageEndWait;
  if (wait === undefined || snapshot.endedAt !== undefined) return undefined;
  const left = Math.max(0, wait.upToMs - Math.max(0, now - snapshot.updatedAt));
  const where = wait.atProxies ? ' at the proxies' : '';
  const when = wait.beforePromotion ? ', of any stage, before the promotion' : '';
  return `waiting for ${formatPlural(wait.requests, 'request')} in flight${where}${when} (up to ${formatDuration(left)})`;
}
