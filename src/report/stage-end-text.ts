// A stage's end waiting for the requests sent in it, in words: the line reporter and the dashboard say the same.
import type { RolloutSnapshot } from '../engine/types.js';
import { formatDuration, formatPlural } from '../core/format.js';

/**
 * "waiting for 14 requests in flight (up to 4m03s)" ("in flight at the proxies" for live traffic's; "..., of any stage,
 * before the promotion" at the last stage's end) as at `now` (the bound counts down from the snapshot's
 * updatedAt); undefined when no stage's end is waiting.
 */
export function stageEndWaitText(snapshot: RolloutSnapshot, now: number): string | undefined {
  return stageEndWaitTexts(snapshot, now)[0];
}

/**
 * stageEndWaitText, then shorter forms for a narrow line, each keeping the count and the bound: without "of any
 * stage, before the promotion", then "at the proxies", then "waiting: 14 in flight, up to 4m03s". Cut instead, the dashboard's stage line
 * lost the bound at 79 columns ("... in flight at the proxies (up …"). Empty when no stage's end is waiting.
 */
export function stageEndWaitTexts(snapshot: RolloutSnapshot, now: number): string[] {
  const wait = snapshot.stageEndWait;
  if (wait === undefined || snapshot.endedAt !== undefined) return [];
  const left = formatDuration(Math.max(0, wait.upToMs - Math.max(0, now - snapshot.updatedAt)));
  const where = wait.atProxies ? ' at the proxies' : '';
  const when = wait.beforePromotion ? ', of any stage, before the promotion' : '';
  const requests = formatPlural(wait.requests, 'request');
  const forms = [
    `waiting for ${requests} in flight${where}${when} (up to ${left})`,
    `waiting for ${requests} in flight${where} (up to ${left})`,
    `waiting for ${requests} in flight (up to ${left})`,
    `waiting: ${wait.requests} in flight, up to ${left}`,
  ];
  return [...new Set(forms)];
}
