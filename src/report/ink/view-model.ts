// Everything the dashboard shows, computed from a snapshot: the components only lay these lines out.
import type { RolloutSnapshot } from '../../engine/types.js';
import { textWidth } from '../text-width.js';
import { checkSectionHeight, checkSectionLines, errorRateLimit } from './check-lines.js';
import { endingReason, footerLines } from './footer-lines.js';
import { headerLines } from './header-lines.js';
import type { DashboardMode, KeyState } from './keys.js';
import { stageTableLines } from './stage-table.js';
import { eventLines, eventRowsWanted, MAX_EVENT_ROWS } from './event-lines.js';
import { lineText, type DashboardView } from './view-types.js';
import type { LiveView } from '../../live/fleet.js';
import { liveSectionLines } from './live-lines.js';

export interface ViewOptions {
  /** The wall clock: ages of the times of day a snapshot records (updatedAt, a stage's start). */
  now: number;
  /** The steady clock (steadyNow): how long a key's notice has been shown. */
  steadyNow: number;
  /** Terminal size. */
  columns: number;
  rows: number;
  mode: DashboardMode;
  keys: KeyState;
  /** False when stdin is not a terminal: no keys are read, so none are offered. */
  keysEnabled?: boolean;
  /** Set once the rollout has ended and the reporter draws its last frame. */
  final?: { exitCode: number; reason?: string };
  /** status --watch: where the state comes from and whether its owner still runs. */
  watch?: { stateDir: string; ownerAlive: boolean };
  /** A live rollout: its proxies and live figures per stage, shown under the checks (`updatedAt`: read from live.json). */
  live?: LiveView & { updatedAt?: number };
  /** " --state-dir DIR" for the commands the footer suggests ("" or absent for the default folder). */
  stateDirFlag?: string;
}

/** Header, table and checks are no wider (the table is 78 columns); events and the ending's reason take the terminal's. */
const MAX_WIDTH = 120;
export function buildDashboardView(snapshot: RolloutSnapshot, options: ViewOptions): DashboardView {
  const width = Math.max(20, Math.min(MAX_WIDTH, options.columns));
  const eventWidth = Math.max(20, options.columns);
  const footer = footerLines(snapshot, options, width);
  // The ending's reason is the footer's last word: an event saying the same (a breach's, word for word) is not
  // repeated above it, leaving its rows to the events before.
  const reason = endingReason(snapshot, options);
  const recent = reason === undefined ? snapshot.recentEvents : snapshot.recentEvents.filter((event) => event.message !== reason);
  // status --watch on a rollout that ended or died: its proxies' lines are its last reading's.
  const stopped = snapshot.endedAt !== undefined || options.watch?.ownerAlive === false;
  const live = options.live ? liveSectionLines(options.live, snapshot, options.now, width, stopped) : [];
  const checksHeight = checkSectionHeight(snapshot, width) + live.length;
  const layout = planLayout({
    rows: options.rows,
    stageCount: snapshot.stages.length,
    fixedLines: 3 + 2 + checksHeight + footer.length,
    eventCount: eventRowsWanted(recent, eventWidth),
  });
  const header = headerLines(snapshot, options, width);
  const events = eventLines(recent, layout.eventRows, eventWidth);
  // In a terminal too short for everything, the checks give way, then the table: a frame taller than the
  // terminal scrolls the header (the phase, the stage, the split) out of sight.
  let room = Math.max(1, options.rows - 1) - header.length - events.length - footer.length;
  // Beside live figures of another age (live.json's, status --watch), the table says its own: state.json's.
  const savedAge = options.live?.updatedAt === undefined ? undefined : Math.max(0, options.now - snapshot.updatedAt);
  const wholeTable = stageTableLines(snapshot, layout.stageRows, width, errorRateLimit(snapshot), savedAge);
  const table = wholeTable.length <= room ? wholeTable : [];
  room -= table.length;
  const checks = [...checkSectionLines(snapshot, width), ...live].slice(0, Math.max(0, room));
  const frameWidth = Math.max(width, ...[...events, ...footer].map((line) => textWidth(lineText(line))));
  return { width: frameWidth, gaps: layout.gaps, header, table, checks, events, footer };
}

export interface LayoutInput {
  rows: number;
  stageCount: number;
  /** Lines that are always drawn: header, table headers, checks, footer. */
  fixedLines: number;
  /** Rows the latest events take, wrapped (eventRowsWanted). */
  eventCount: number;
}

const SECTION_GAPS = 4;
const MIN_EVENTS = 2;

/**
 * Fits the dashboard in rows - 1 lines (a frame as tall as the terminal makes Ink clear the screen each time):
 * blank lines between sections only when there is room for them and a few events, stage rows windowed only
 * when even that does not fit.
 */
export function planLayout(input: LayoutInput): { gaps: boolean; stageRows: number; eventRows: number } {
  const available = Math.max(1, input.rows - 1);
  const withAllStages = input.fixedLines + input.stageCount;
  const wantedEvents = Math.min(input.eventCount, 4);
  const gaps = available - withAllStages - SECTION_GAPS >= wantedEvents;
  const free = available - withAllStages - (gaps ? SECTION_GAPS : 0);
  if (free >= Math.min(input.eventCount, MIN_EVENTS)) {
    return { gaps, stageRows: input.stageCount, eventRows: Math.min(input.eventCount, MAX_EVENT_ROWS, free) };
  }
  const eventRows = Math.min(input.eventCount, MIN_EVENTS);
  const stageRows = Math.max(1, Math.min(input.stageCount, available - input.fixedLines - eventRows));
  return { gaps: false, stageRows, eventRows: Math.max(0, Math.min(eventRows, available - input.fixedLines - stageRows)) };
}
