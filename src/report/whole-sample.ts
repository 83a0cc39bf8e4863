// A reason quotes green's upstream message cut at 120 characters (analysis/blame.ts); the whole message is in the
// warning event its first such failure wrote (engine/first-errors.ts). `status` shows it under the reason, so the
// dashboard's pointer to `bluegreen status` for the whole reason leads to the whole text.
import { cutSample } from '../analysis/blame.js';
import { oneLine } from '../core/format.js';
import type { RolloutEvent } from '../engine/types.js';
import { firstFailureLead, withoutArm } from '../engine/first-errors.js';

/**
 * "green's first server_error, whole: 500 from ...": the message the reason quotes cut, from the recent
 * events state.json keeps, else (a long rollout's later events pushed it out) from the whole journal; undefined
 * when the reason quotes none cut, or no event holds it.
 */
export function wholeSampleText(reason: string | undefined, recent: readonly RolloutEvent[], journal: () => readonly RolloutEvent[]): string | undefined {
  const cut = cutSample(reason);
  if (cut === undefined) return undefined;
  return wholeIn(cut, recent) ?? wholeIn(cut, journal());
}

function wholeIn(cut: { failure: string; start: string }, events: readonly RolloutEvent[]): string | undefined {
  const lead = firstFailureLead('green', cut.failure);
  // The reason quotes the message as the arm's result has it ("green arm: 500 …"); the warning names the arm in its lead.
  const start = withoutArm('green', cut.start);
  for (const event of events) {
    if (event.type !== 'warning' || !event.message.startsWith(lead)) continue;
    // The reason's quote is on one line (oneLine): so is the message it is compared with, and shown.
    const whole = oneLine(withoutArm('green', event.message.slice(lead.length)), Infinity);
    if (whole.startsWith(start)) return `green's first ${cut.failure}, whole: ${whole}`;
  }
  return undefined;
}

/** Whether the reason quotes an upstream message cut short (status shows it whole). */
export function quotesCut(reason: string | undefined): boolean {
  return cutSample(reason) !== undefined;
}
