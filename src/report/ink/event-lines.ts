// The dashboard's recent events: each message word-wrapped to the terminal's width under its time, the newest kept
// whole. An event says what happened in a sentence (a breach's upstream error, a hook's output): cut at the
// table's width, its end was lost on the widest terminals and on the narrowest alike.
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

/** Rows the latest events would take wrapped to width, up to MAX_EVENT_ROWS: what the layout makes room for. */
export function eventRowsWanted(events: readonly RolloutEvent[], width: number): number {
  let rows = 0;
  for (const event of shownEvents(events).reverse()) {
    rows += messageLines(event, width, MAX_EVENT_ROWS).length;
    if (rows >= MAX_EVENT_ROWS) return MAX_EVENT_ROWS;
  }
  return rows;
}

/**
 * The events that fit in `rows` rows, oldest first, each message wrapped to width: the newest whole (its last row
 * cut with "…" only when it alone takes more than `rows`), older ones while they fit whole.
 */
export function eventLines(events: readonly RolloutEvent[], rows: number, width: number): Line[] {
  const blocks: Line[][] = [];
  let left = rows;
  for (const event of shownEvents(events).reverse()) {
    if (left <= 0) break;
    const newest = blocks.length === 0;
    const lines = messageLines(event, width, newest ? left : Infinity);
    if (!newest && lines.length > left) break;
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
