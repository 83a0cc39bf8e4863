// `bluegreen status` as text: where the rollout stands, from state.json alone.
import { describeEvidence } from '../analysis/format.js';
import type { CheckResult } from '../analysis/types.js';
import { FINAL_PHASES, type Phase, type RolloutSnapshot } from '../engine/types.js';
import { weightUnconfirmed } from '../engine/endings.js';
import { escapeControlsIn, formatDuration, formatMs, formatPercent, formatUsd, formatWeight, usdDecimals } from '../core/format.js';
import { formatEventLine } from './line.js';
import { textWidth } from './text-width.js';
import { hangingWrap } from './wrap.js';
import { droppedColumns, type DroppableColumn } from './column-drop.js';
import { endingStarted, phaseWhenDied } from './ending-text.js';
import { stageEndWaitText } from './stage-end-text.js';
import { lostText } from './lost-text.js';
import { comparisonDecimals, formatCheckValue, isRateDifference, waitingCount } from './check-value.js';
import type { HookInFlight, RecoveryHook } from '../state/hook-record.js';
import { describeHookInFlight, describeRecovery, greenAfterDeath } from '../state/hook-words.js';

export interface OwnerInfo {
  alive: boolean;
  pid: number;
  /** Stopped by SIGSTOP or Ctrl-Z: alive, but judging nothing. */
  stopped?: boolean;
  /** The hook it is running, or was running when it died (hook.json). */
  hook?: HookInFlight;
  /** The rollback hook a recovery of it ran (hook.json written by `bluegreen rollback`), and whether that process lives. */
  recovery?: RecoveryHook & { alive: boolean };
  /** Gone: `status` read that every proxy it drove is back on blue by its lease (live/lease-back.ts). */
  proxiesOnBlue?: boolean;
}

/**
 * `columns`: a terminal's width, which long lines are broken to between words (a check's evidence under its
 * status, an event's message under its message); without it (a pipe, a file) every line stays whole, for grep.
 * `live`: live traffic's section follows (status.ts adds it), so the stage table says how old its figures are.
 */
export function renderStatus(
  snapshot: RolloutSnapshot,
  owner: OwnerInfo,
  now: number,
  options: { events?: number; columns?: number; wholeSample?: string; live?: boolean } = {},
): string {
  const { columns } = options;
  // What the files say (a hand-edited state.json or journal included) never acts on the terminal: shown escaped.
  const shown = escapeControlsIn(snapshot);
  const wholeSample = escapeControlsIn(options.wholeSample);
  const lines = [
    ...standingLines(shown, escapeControlsIn(owner), now).map((line) => fitted(line, columns)),
    // The upstream message the reason quotes cut (whole-sample.ts): the dashboard sends the operator here for it.
    ...(wholeSample === undefined ? [] : [fitted(`  ${wholeSample}`, columns)]),
    '',
    // Above live figures of another age (live.json's, which says its own in its title): this table's.
    ...(options.live ? [`  stages, as saved ${formatDuration(Math.max(0, now - shown.updatedAt))} ago:`] : []),
    ...stageTableLines(shown, columns),
    ...checkLines(shown, columns),
    ...recentEventLines(shown, options.events ?? 8, columns),
  ];
  return `${lines.join('\n')}\n`;
}

/** The line broken to the terminal's width (see hangingWrap), or whole without one. */
export function fitted(line: string, columns: number | undefined, hang?: number): string {
  return columns === undefined ? line : hangingWrap(line, columns, hang);
}

/** The head: phase, models, stage and weights, hooks in flight, timing, the owner process, the reason. */
function standingLines(snapshot: RolloutSnapshot, owner: OwnerInfo, now: number): string[] {
  const lines: string[] = [];
  const stageCount = snapshot.plan.stages.length;
  const finished = snapshot.endedAt !== undefined;
  // A dead owner's phase is only where it was: the rollout is no longer moving, whatever state.json says.
  const orphaned = !finished && !owner.alive;
  const phase = snapshot.phase.replace('_', ' ');
  // The journal may say the ending began where state.json, a write behind, still says "progressing".
  // So may hook.json: a promotion after the last stage passed journals nothing before its on_promote hook runs.
  const died = orphaned
    ? phaseWhenDied(
        FINAL_PHASES.includes(snapshot.phase) ? snapshot.phase : (endingStarted(snapshot.recentEvents)?.phase ?? hookEnding(owner.hook) ?? snapshot.phase),
      )
    : '';
  lines.push(
    `rollout ${snapshot.plan.name}: ${orphaned ? `orphaned (its process died while ${died})${diedIn(owner.hook)}` : phase}${finished ? endingCode(snapshot) : ''}`,
  );
  lines.push(`  ${snapshot.plan.blueModel} (blue) -> ${snapshot.plan.greenModel} (green)`);
  const stage = snapshot.plan.stages[snapshot.stageIndex];
  const left = stage ? Math.max(0, stage.durationMs - snapshot.stageElapsedMs) : 0;
  // Its time up, the stage goes on until its requests in flight answer: said rather than "0s left" for minutes.
  const waiting = finished || orphaned ? undefined : stageEndWaitText(snapshot, now);
  lines.push(
    `  stage ${snapshot.stageIndex + 1}/${stageCount}, green ${formatWeight(snapshot.greenWeight)} / blue ${formatWeight(1 - snapshot.greenWeight)}${weightUnconfirmed(snapshot) ? UNCONFIRMED : finished || orphaned ? '' : waiting !== undefined ? `, its time is up: ${waiting} before it is judged` : `, ${formatDuration(left)} left in stage`}`,
  );
  // state.json takes a stage's weight once its on_stage hook succeeded: while (or when) it ran, green may be at either.
  if (!finished && owner.hook) lines.push(orphaned ? `  green at ${greenAfterDeath(snapshot, owner.hook)}` : `  ${describeHookInFlight(owner.hook)}: running`);
  if (!finished && owner.recovery) lines.push(`  ${recoveryLine(owner.recovery)}`);
  const elapsed = (snapshot.endedAt ?? (orphaned ? snapshot.updatedAt : now)) - snapshot.startedAt;
  // A recovered run's end is when the recovery recorded it, maybe days after its process died: not how long it ran.
  const span =
    snapshot.recoveredBy !== undefined
      ? `its end recorded ${formatDuration(elapsed)} later`
      : `${finished || orphaned ? 'ran' : 'running for'} ${formatDuration(elapsed)}`;
  lines.push(`  started ${new Date(snapshot.startedAt).toISOString()}, ${span}`);
  if (!finished) lines.push(ownerLine(owner, now - snapshot.updatedAt));
  if (snapshot.reason) lines.push(`  reason: ${snapshot.reason}`);
  return lines;
}

/** After the weights of an ending whose moves failed: they are what it meant to set, not what is known to serve. */
const UNCONFIRMED = " (unconfirmed: the ending's moves did not all work; see the reason)";

/**
 * " (exit 10)" after a finished rollout's phase; for a dead run whose end a recovery recorded, whose exit code (5)
 * is the dead run's and not status's (0) nor the recovery's: " by bluegreen rollback after the run died (its exit 5)".
 */
function endingCode(snapshot: RolloutSnapshot): string {
  if (snapshot.exitCode === undefined) return '';
  if (snapshot.recoveredBy === undefined) return ` (exit ${snapshot.exitCode})`;
  return ` by ${snapshot.recoveredBy} after the run died (its exit ${snapshot.exitCode})`;
}

/** The ending a hook in flight was moving traffic for: a rollout that died in it was ending, not progressing. */
function hookEnding(hook: HookInFlight | undefined): Phase | undefined {
  if (hook === undefined || hook.event === 'stage') return undefined;
  return hook.event === 'promote' ? 'promoted' : hook.event === 'abort' ? 'aborted' : 'rolled_back';
}

/** ": its on_promote hook was running" after the orphaned head: what it was doing when it died (hook.json). */
function diedIn(hook: HookInFlight | undefined): string {
  if (hook === undefined) return '';
  if (hook.by === 'proxies') return ': it was moving the proxies';
  return `: its ${hook.hook ?? `on_${hook.event}`} hook was running`;
}

/** Whether the unfinished rollout's process runs, is stopped, or is gone. */
function ownerLine(owner: OwnerInfo, sinceUpdateMs: number): string {
  const since = formatDuration(sinceUpdateMs);
  if (owner.alive && owner.stopped)
    return `  owner pid ${owner.pid} is stopped (kill -STOP, Ctrl-Z): nothing judges green until it runs again (kill -CONT ${owner.pid}; last update ${since} ago)`;
  if (owner.alive) return `  owner pid ${owner.pid} is running (last update ${since} ago)`;
  // Said as the orphan message on stderr says it (state/orphan.ts): one account of where traffic is.
  const traffic = owner.proxiesOnBlue ? 'the proxies are back on blue by their lease (read now)' : 'check that traffic is on blue';
  return `  owner pid ${owner.pid} is gone: the rollout stopped without finishing (last update ${since} ago); ${traffic}`;
}

/** The table's columns after the arm's: label, width (right-aligned, two spaces before each). */
const FIGURE_COLUMNS = [
  { key: 'requests', label: 'requests', width: 8 },
  { key: 'errors', label: 'errors', width: 6 },
  { key: 'err rate', label: 'err rate', width: 8 },
  { key: 'p95', label: 'p95', width: 7 },
  { key: 'cost', label: 'cost', width: 8 },
] as const;
/** "  stage  green  verdict    arm  ": what comes before the figures. */
const TABLE_HEAD_WIDTH = 2 + 5 + 2 + 5 + 2 + 9 + 2 + 5;

/**
 * Two rows a stage, blue then green, under one header. Narrower than the table (79 columns), the least important
 * figures are left out (column-drop.ts) rather than each row wrapping onto the next line.
 */
function stageTableLines(snapshot: RolloutSnapshot, columns: number | undefined): string[] {
  const dropped = droppedColumns(columns, (without) =>
    FIGURE_COLUMNS.reduce((sum, column) => sum + (without.has(column.key as DroppableColumn) ? 0 : 2 + column.width), TABLE_HEAD_WIDTH),
  );
  const shown = FIGURE_COLUMNS.filter((column) => !dropped.has(column.key as DroppableColumn));
  const lines = [`  stage  green  verdict    arm  ${shown.map((column) => `  ${column.label.padStart(column.width)}`).join('')}`];
  // The cost column's figures take one number of decimals (core/format.ts).
  const usd = usdDecimals(...snapshot.stages.flatMap((s) => [s.arms.blue.costUsd, s.arms.green.costUsd]));
  for (const s of snapshot.stages) {
    for (const arm of ['blue', 'green'] as const) {
      const a = s.arms[arm];
      const head =
        arm === 'blue'
          ? `  ${String(s.index + 1).padStart(5)}  ${formatWeight(s.greenWeight).padStart(5)}  ${s.verdict.padEnd(9)}`
          : `  ${''.padStart(5)}  ${''.padStart(5)}  ${''.padEnd(9)}`;
      const rate = a.requests ? a.failures / a.requests : null;
      const cells: Record<(typeof FIGURE_COLUMNS)[number]['key'], string> = {
        requests: String(a.requests),
        errors: String(a.failures),
        'err rate': formatPercent(rate),
        p95: formatMs(a.latency?.p95),
        cost: formatUsd(a.costUsd, usd),
      };
      lines.push(`${head}  ${arm.padEnd(5)}${shown.map((column) => `  ${cells[column.key].padStart(column.width)}`).join('')}`);
    }
    // Under the stage's rows: sent, never answered, so in neither arm's requests; its checks count them as unknown.
    const lost = lostText(s);
    if (lost !== undefined) lines.push(fitted(`${''.padStart(TABLE_HEAD_WIDTH - 5)}${lost}`, columns));
  }
  return lines;
}

/** The current stage's checks on green, with figure, limit and evidence (nothing when there are none). */
function checkLines(snapshot: RolloutSnapshot, columns: number | undefined): string[] {
  if (!snapshot.checks.length) return [];
  // A waiting check's count towards analysis.min_requests, as the dashboard says it: "waiting (8/10, n=8)".
  const minRequests = snapshot.plan.minRequests;
  const progress = (check: CheckResult) => {
    const count = waitingCount(check, minRequests);
    return count === undefined ? '' : `${count}/${minRequests}, `;
  };
  // The comparisons' decimals shared, as the dashboard's rows share theirs.
  const shared = comparisonDecimals(snapshot.checks);
  const rows = snapshot.checks.map((check) => {
    const decimals = isRateDifference(check) ? shared : undefined;
    return {
      rule: check.rule,
      figure: formatCheckValue(check, check.figure, { decimals }),
      limit: formatCheckValue(check, check.limit, { decimals }),
      rest: `${check.status} (${progress(check)}n=${check.sample})${check.evidence ? ` ${describeEvidence(check.evidence, isRateDifference(check), decimals)}` : ''}`,
    };
  });
  // Columns as wide as their longest cell: rule names run to 46 characters, point figures to 12.
  const width = (key: 'rule' | 'figure' | 'limit') => Math.max(...rows.map((row) => row[key].length));
  const heads = rows.map((row) => `    ${row.rule.padEnd(width('rule'))}  ${row.figure.padStart(width('figure'))} / ${row.limit.padEnd(width('limit'))}  `);
  // Columns wider than the terminal (a 46-column rule name padded, then its figures) are dropped for every row alike:
  // each rule with its figure and limit unpadded, on one line, beside the rule or under it. Broken between words,
  // 70 columns read "1.30s /" over "3.00s"; left to the terminal, the limit went to column 0.
  const padded = columns === undefined || heads.every((head) => textWidth(head.trimEnd()) <= columns);
  return [
    '',
    '  checks (green, current stage):',
    ...rows.map((row, index) => (padded ? checkRow(heads[index]!, row.rest, columns) : unpaddedCheckRow(row, columns ?? 0))),
  ];
}

/**
 * A check's row: its columns, then its status and evidence. Too long for the terminal, the evidence goes on under
 * the status; when the columns leave no room for that (rule names run to 46 characters), the status and evidence
 * go on the next line.
 */
function checkRow(head: string, rest: string, columns: number | undefined): string {
  const headWidth = textWidth(head);
  if (columns === undefined || headWidth + textWidth(rest) <= columns) return `${head}${rest}`;
  if (headWidth <= columns - MIN_EVIDENCE_ROOM) return hangingWrap(`${head}${rest}`, columns, headWidth);
  return `${head.trimEnd()}\n${hangingWrap(`      ${rest}`, columns)}`;
}

/** A check's row where the columns do not fit: the rule, its figure and limit together, then its status and evidence. */
function unpaddedCheckRow(row: { rule: string; figure: string; limit: string; rest: string }, columns: number): string {
  const figures = `${row.figure} / ${row.limit}`;
  const beside = `    ${row.rule}  ${figures}`;
  const lines = textWidth(beside) <= columns ? [beside] : [`    ${row.rule}`, `      ${figures}`];
  return [...lines, `      ${row.rest}`].map((line) => hangingWrap(line, columns)).join('\n');
}

/** The last `count` events of the journal kept in state.json. */
function recentEventLines(snapshot: RolloutSnapshot, count: number, columns: number | undefined): string[] {
  const recent = snapshot.recentEvents.slice(-count);
  if (!recent.length) return [];
  // A message goes on under itself, past the time and the event's type ("    12:00:01.000 stage_passed      ").
  return ['', '  recent events:', ...recent.map((event) => fitted(`    ${formatEventLine(event)}`, columns, EVENT_MESSAGE_COLUMN))];
}

const MIN_EVIDENCE_ROOM = 30;
const EVENT_MESSAGE_COLUMN = 4 + '12:00:01.000 '.length + 16 + 1;

/** A recovery's rollback hook: under way, or left by a recovery killed while it ran (the next rollback stops it first). */
function recoveryLine(recovery: RecoveryHook & { alive: boolean }): string {
  const who = describeRecovery(recovery);
  // The plan's hook it ran: on_stage at 0% stands in for a missing on_rollback.
  const its = recovery.hook === undefined ? 'its rollback hook' : `its ${recovery.hook} hook (for on_rollback, which the plan has not)`;
  if (recovery.alive) return `${who} is putting it back on blue: ${its} is running`;
  const hook =
    recovery.running === true
      ? 'and the hook still runs: bluegreen rollback stops it before running its own'
      : recovery.running === false
        ? 'and the hook has ended since: traffic may or may not be on blue'
        : 'traffic may or may not be on blue';
  return `${who} was killed while ${its} ran, ${hook}`;
}
