// The dashboard's recent events: the newest word-wrapped whole to the terminal's width under its time, each older one
// on one row, cut with "…" at that width. An event says what happened in a sentence (a breach's upstream error, a
// hook's output): cut at the table's width, its end was lost on the widest terminals and on the narrowest alike;
// but every one wrapped took ~5 rows at 60 columns and pushed the older ones off (lows28), so only the newest is.
import type { EventType, RolloutEvent } from '../../engine/types.js';
import { timestamp } from '../line.js';
import { wrap } from '../wrap.js';
import type { Tone } from './theme.js';
import { clip, type Line } from './view-types.js';

/** Rows the events take at most, however many there are. */
export const MAX_EVENT_ROWS = 8;

const EVENT_TONES: Partial<Record<EventType, Tone>> = {
  breach: 'bad',
  rolled_back: 'bad',
  failed: 'bad',
  hook_failed: 'bad',
  health_check_failed: 'bad',
  paused: 'warn',
  abort_requested: 'warn',
  promote_requested: 'warn',
  aborted: 'warn',
  interrupted: 'warn',
  warning: 'warn',
  stage_passed: 'ok',
  promoted: 'ok',
  resumed: 'ok',
  health_check_recovered: 'ok',
};

/** "09:34:40  ": the time before each event, and the indent of its message's further lines. */
const TIME_WIDTH = 10;

/** The events worth a line: the journal's `finished` repeats the final banner just below them. */
function shownEvents(events: readonly RolloutEvent[]): RolloutEvent[] {
  return events.filter((event) => event.type !== 'finished');
}

/** Rows the latest events would take (the newest wrapped, each older one row), up to MAX_EVENT_ROWS: what the layout makes room for. */
export function eventRowsWanted(events: readonly RolloutEvent[], width: number): number {
  const shown = shownEvents(events);
  const newest = shown.at(-1);
  if (newest === undefined) return 0;
  return Math.min(MAX_EVENT_ROWS, messageLines(newest, width, MAX_EVENT_ROWS).length + shown.length - 1);
}

/**
 * The events that fit in `rows` rows, oldest first: the newest's message wrapped to width whole (its last row cut
 * with "…" only when it alone takes more than `rows`), each older one on one row, cut with "…" at the width.
 */
export function eventLines(events: readonly RolloutEvent[], rows: number, width: number): Line[] {
  const blocks: Line[][] = [];
  let left = rows;
  for (const event of shownEvents(events).reverse()) {
    if (left <= 0) break;
    const newest = blocks.length === 0;
    const lines = messageLines(event, width, newest ? left : 1);
    const tone = EVENT_TONES[event.type] ?? 'plain';
    const time = `${timestamp(event.at).slice(0, 8)}  `;
    blocks.unshift(
      lines.map((text, index) =>
        clip(
          [
            { text: index === 0 ? time : ' '.repeat(TIME_WIDTH), tone: 'muted' },
            { text, tone },
          ],
          width,
        ),
      ),
    );
    left -= lines.length;
  }
  return blocks.flat();
}

/** The event's message in lines of at most width minus the time, at most maxLines of them (one at the least). */
function messageLines(event: RolloutEvent, width: number, maxLines: number): string[] {
  const lines = wrap(event.message, Math.max(1, width - TIME_WIDTH), Math.max(1, maxLines));
  return lines.length > 0 ? lines : [''];
}
