// Durations in plans are strings with a unit ("500ms", "30s", "5m", "1h", "1m30s"); internally milliseconds.

/**
 * The longest duration a plan may give (336h, two weeks). Node's timers hold at most 2^31-1 ms (24.8 days) and
 * fire at once beyond that, so the cap keeps every timer the plan sets well inside what Node can wait; a
 * rollout that needs longer is better run as more stages.
 */
export const MAX_DURATION_MS = 14 * 24 * 3_600_000;
export const MAX_DURATION_TEXT = '336h (14 days)';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;

/** Parses "1m30s" into 90000; returns undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!WHOLE.test(trimmed)) return undefined;
  let total = 0;
  for (const match of trimmed.matchAll(PART)) {
    total += Number(match[1]) * (UNIT_MS[match[2] as string] ?? 0);
  }
  return Math.round(total);
}

/** Formats milliseconds for people: 850ms, 12.5s, 4m05s, 1h02m. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${Math.round(abs)}ms`;
  if (abs < 60_000) {
    const seconds = abs / 1000;
    return `${sign}${seconds < 10 ? seconds.toFixed(1).replace(/\.0$/, '') : Math.round(seconds)}s`;
  }
  const totalSeconds = Math.round(abs / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (hours > 0) return `${sign}${hours}h${String(minutes).padStart(2, '0')}m`;
  return `${sign}${minutes}m${String(seconds).padStart(2, '0')}s`;
}
