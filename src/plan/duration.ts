// Durations in plans are strings with a unit ("500ms", "30s", "5m", "1h", "1m30s"); internally milliseconds.

/**
 * The longest duration a plan may give (336h, two weeks). Node's timers hold at most 2^31-1 ms (24.8 days) and
 * fire at once beyond that: the clock chunks its long timers, and the cap keeps every other timer a plan sets
 * (a hook's timeout, say) inside what Node can wait. A rollout that needs longer is better run as more stages.
 */
export const MAX_DURATION_MS = 14 * 24 * 3_600_000;
export const MAX_DURATION_TEXT = '336h (14 days)';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;

/** Parses "1m30s" into 90000; returns undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!WHOLE.test(trimmed)) return undefined;
  let total = 0;
  // The expression written here, not shared at module level: a global one holds state (its lastIndex).
  for (const match of trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(match[1]) * (UNIT_MS[match[2] as string] ?? 0);
  }
  return Math.round(total);
}
