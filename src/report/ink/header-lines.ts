// The top of the dashboard: plan name and phase, stage progress with time left, the blue/green split.
import { FINAL_PHASES, type Phase, type RolloutSnapshot } from '../../engine/types.js';
import { formatDuration, formatWeight } from '../../core/format.js';
import { stageEndWaitTexts } from '../stage-end-text.js';
import { textWidth, truncate } from '../text-width.js';
import { barCells, clockDuration, fit } from './cells.js';
import type { Tone } from './theme.js';
import type { ViewOptions } from './view-model.js';
import { clip, type Line } from './view-types.js';

export const PHASE_LABELS: Readonly<Record<Phase, { readonly text: string; readonly tone: Tone }>> = {
  starting: { text: 'STARTING', tone: 'muted' },
  progressing: { text: 'PROGRESSING', tone: 'accent' },
  paused: { text: 'PAUSED', tone: 'warn' },
  promoted: { text: 'PROMOTED', tone: 'ok' },
  rolled_back: { text: 'ROLLED BACK', tone: 'bad' },
  aborted: { text: 'ABORTED', tone: 'warn' },
  interrupted: { text: 'INTERRUPTED', tone: 'warn' },
  failed: { text: 'FAILED', tone: 'bad' },
};

export function isFinalPhase(phase: Phase): boolean {
  return FINAL_PHASES.includes(phase);
}

export function elapsedMs(snapshot: RolloutSnapshot, now: number): number {
  if (!snapshot.startedAt) return 0;
  return Math.max(0, (snapshot.endedAt ?? now) - snapshot.startedAt);
}

/**
 * Time spent in the current stage at `now`: the snapshot's figure, moved on by the time since it was taken while
 * the stage clock runs (status --watch reads a state file up to a second old).
 */
export function stageElapsedAt(snapshot: RolloutSnapshot, now: number): number {
  const running = snapshot.phase === 'progressing' && snapshot.endedAt === undefined;
  return snapshot.stageElapsedMs + (running ? Math.max(0, now - snapshot.updatedAt) : 0);
}

export function headerLines(snapshot: RolloutSnapshot, options: ViewOptions, width: number): Line[] {
  return [titleLine(snapshot, options, width), progressLine(snapshot, options.now, width), splitLine(snapshot, width)].map((line) => clip(line, width));
}

function titleLine(snapshot: RolloutSnapshot, options: ViewOptions, width: number): Line {
  const phase = PHASE_LABELS[snapshot.phase];
  const elapsed = `${clockDuration(elapsedMs(snapshot, options.now))} elapsed`;
  const right = `${phase.text}  ${elapsed}`;
  const lead = options.mode === 'watch' ? 'bluegreen (watching) · ' : 'bluegreen · ';
  const name = truncate(snapshot.plan.name, Math.max(4, width - textWidth(lead) - textWidth(right) - 2));
  const pad = ' '.repeat(Math.max(2, width - textWidth(lead) - textWidth(name) - textWidth(right)));
  return [
    { text: lead, tone: 'muted' },
    { text: name, tone: 'title' },
    { text: pad },
    { text: phase.text, tone: phase.tone },
    { text: `  ${elapsed}`, tone: 'muted' },
  ];
}

/** The stage's progress bar at the least, while its status can be shortened to leave it that. */
const MIN_BAR = 8;

function progressLine(snapshot: RolloutSnapshot, now: number, width: number): Line {
  const count = snapshot.plan.stages.length;
  const stage = snapshot.plan.stages[snapshot.stageIndex];
  const duration = stage?.durationMs ?? 0;
  const elapsed = Math.min(duration, stageElapsedAt(snapshot, now));
  const label = `stage ${snapshot.stageIndex + 1}/${count}${stage?.name ? ` ${stage.name}` : ''}`;
  const left = Math.max(0, duration - elapsed);
  const final = isFinalPhase(snapshot.phase);
  // Its time is up, yet the stage goes on until its requests in flight answer (or a request's longest life).
  const waits = final ? [] : stageEndWaitTexts(snapshot, now);
  const waiting = waits.length > 0;
  const statuses = final
    ? ['ended']
    : waiting
      ? waits.map((text) => `${text}${snapshot.phase === 'paused' ? ', paused' : ''}`)
      : snapshot.phase === 'paused'
        ? [`paused, ${formatDuration(left)} left`]
        : snapshot.phase === 'starting'
          ? ['starting']
          : [`${formatDuration(left)} left`];
  const percent = fit(`${Math.round((duration > 0 ? elapsed / duration : 0) * 100)}%`, 4, 'right');
  const room = (status: string) => width - textWidth(label) - textWidth(`${percent}  ${status}`) - 4;
  // The longest status that leaves the bar its 8 cells; narrower still, the bar gives way before the status is cut.
  const status = statuses.find((text) => room(text) >= MIN_BAR) ?? statuses.at(-1) ?? '';
  const tail = `${percent}  ${status}`;
  const barWidth = Math.max(0, Math.min(40, room(status)));
  const { full, empty } = barCells(duration > 0 ? elapsed / duration : 0, barWidth);
  return [
    { text: label, tone: 'title' },
    { text: '  ' },
    { text: '█'.repeat(full), tone: snapshot.phase === 'paused' ? 'warn' : 'accent' },
    { text: '░'.repeat(empty), tone: 'muted' },
    { text: ` ${tail}`, tone: snapshot.phase === 'paused' || waiting ? 'warn' : 'plain' },
  ];
}

function splitLine(snapshot: RolloutSnapshot, width: number): Line {
  const green = Math.min(1, Math.max(0, snapshot.greenWeight));
  const bluePct = formatWeight(1 - green);
  const greenPct = formatWeight(green);
  const blueName = truncate(snapshot.plan.blueModel, 20);
  const greenName = truncate(snapshot.plan.greenModel, 20);
  const left = `blue ${blueName} ${bluePct} `;
  const right = ` ${greenPct} ${greenName} green`;
  const barWidth = Math.max(10, Math.min(50, width - textWidth(left) - textWidth(right)));
  const { full: greenCells, empty: blueCells } = barCells(green, barWidth);
  return [
    { text: 'blue ', tone: 'blue' },
    { text: `${blueName} ${bluePct} ` },
    { text: '░'.repeat(blueCells), tone: 'blue' },
    { text: '█'.repeat(greenCells), tone: 'green' },
    { text: ` ${greenPct} ${greenName} ` },
    { text: 'green', tone: 'green' },
  ];
}
