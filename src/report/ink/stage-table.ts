// The per-stage table: one row per stage, both arms side by side, 78 columns for 5 stages; past the terminal's width
// (100+ stages at 80 columns) the arms' gap narrows to one column, and narrower still the least important figures
// are left out (column-drop.ts: errors, cost, then p95), so no cell is cut.
//   ─ blue gpt-4o ───────────────   ─ green gpt-4.1 ─────────────
//  # green verdict   req  err  err%   p95   cost    req  err  err%   p95   cost
// ▶2   25% running   101    0  0.0% 1.39s $0.075     24    0  0.0% 1.56s $0.014
import { formatDuration, formatWeight, usdDecimals } from '../../core/format.js';
import type { RolloutSnapshot } from '../../engine/types.js';
import type { ArmStats, StageStats, StageVerdict } from '../../metrics/types.js';
import type { ArmName } from '../../plan/plan.js';
import { droppedColumns, type DroppableColumn } from '../column-drop.js';
import { textWidth, truncate } from '../text-width.js';
import { compactCount, compactCountNarrow, compactMs, compactPercent, compactUsd, fit } from './cells.js';
import type { Tone } from './theme.js';
import { clip, type Line, type Segment } from './view-types.js';

const ARM_COLUMNS = [
  { label: 'req', width: 5 },
  { label: 'err', width: 4, drop: 'errors' },
  { label: 'err%', width: 5 },
  { label: 'p95', width: 5, drop: 'p95' },
  { label: 'cost', width: 6, drop: 'cost' },
] as const satisfies readonly { label: string; width: number; drop?: DroppableColumn }[];
type ArmColumn = (typeof ARM_COLUMNS)[number];
const WIDE_GAP = '  ';
/** An arm's width with these columns: theirs and one space between each two. */
const armWidth = (columns: readonly ArmColumn[]) => columns.reduce((sum, c) => sum + c.width, 0) + columns.length - 1;
const ARM_WIDTH = armWidth(ARM_COLUMNS);
const kept = (dropped: ReadonlySet<DroppableColumn>) => ARM_COLUMNS.filter((c) => !('drop' in c) || !dropped.has(c.drop));
const GREEN_WIDTH = 5;
const VERDICT_WIDTH = 7;

export const VERDICT_TONES: Readonly<Record<StageVerdict, Tone>> = {
  pending: 'muted',
  running: 'accent',
  passed: 'ok',
  failed: 'bad',
  aborted: 'warn',
  skipped: 'muted',
};

/** usd: the cost column's decimals, the same for every stage and arm (usdDecimals). */
export function armCells(stats: ArmStats, usd = usdDecimals(stats.costUsd)): string[] {
  const rate = stats.requests > 0 ? stats.failures / stats.requests : null;
  return [
    compactCount(stats.requests),
    compactCountNarrow(stats.failures),
    compactPercent(rate),
    compactMs(stats.latency?.p95),
    compactUsd(stats.costUsd, usd),
  ];
}

/** Which stages fit in `rows` table rows: all of them, or a window that keeps the current stage in view. */
export function stageWindow(count: number, current: number, rows: number): { start: number; end: number } {
  if (rows >= count) return { start: 0, end: count };
  const size = Math.max(1, rows);
  const start = Math.min(Math.max(0, current - Math.floor((size - 1) / 2)), count - size);
  return { start, end: start + size };
}

/**
 * rows: how many stage rows fit; errorLimit: green's error-rate threshold, to colour error rates near it; savedAgeMs:
 * how old the figures are (state.json's last save), said top left ("saved 1.2s ago") when the stages all fit.
 */
export function stageTableLines(snapshot: RolloutSnapshot, rows: number, width: number, errorLimit?: number, savedAgeMs?: number): Line[] {
  const count = snapshot.stages.length;
  const indexWidth = String(Math.max(1, count)).length;
  const prefixWidth = 1 + indexWidth + 1 + GREEN_WIDTH + 1 + VERDICT_WIDTH;
  const gap = prefixWidth + 2 * (WIDE_GAP.length + ARM_WIDTH) <= width ? WIDE_GAP : ' ';
  // Still too wide with the narrow gap: the least important figures go (column-drop.ts, the status table's rule too).
  const columns = kept(droppedColumns(width, (dropped) => prefixWidth + 2 * (gap.length + armWidth(kept(dropped)))));
  const armWidthShown = armWidth(columns);
  const { start, end } = stageWindow(count, snapshot.stageIndex, rows);
  const range = `${start + 1}-${end} of ${count}`;
  const saved = savedAgeMs === undefined ? '' : `saved ${formatDuration(savedAgeMs)} ago`;
  const scope = start > 0 || end < count ? (`stages ${range}`.length <= prefixWidth ? `stages ${range}` : range) : saved.length <= prefixWidth ? saved : '';
  const armHeader = (arm: ArmName, model: string): Segment => {
    const label = `─ ${arm} ${truncate(model, armWidthShown - arm.length - 5)} `;
    return { text: gap + label + '─'.repeat(Math.max(0, armWidthShown - textWidth(label))), tone: arm };
  };
  const lines: Line[] = [
    [{ text: fit(scope, prefixWidth), tone: 'muted' }, armHeader('blue', snapshot.plan.blueModel), armHeader('green', snapshot.plan.greenModel)],
    [{ text: columnHeader(indexWidth, gap, columns), tone: 'muted' }],
  ];
  const usd = usdDecimals(...snapshot.stages.flatMap((stage) => [stage.arms.blue.costUsd, stage.arms.green.costUsd]));
  const format = { indexWidth, gap, usd, columns };
  for (const stage of snapshot.stages.slice(start, end)) lines.push(stageRow(stage, stage.index === snapshot.stageIndex, format, errorLimit));
  return lines.map((line) => clip(line, width));
}

function columnHeader(indexWidth: number, gap: string, columns: readonly ArmColumn[]): string {
  const arm = columns.map((c) => fit(c.label, c.width, 'right')).join(' ');
  return ` ${fit('#', indexWidth, 'right')} ${fit('green', GREEN_WIDTH, 'right')} ${fit('verdict', VERDICT_WIDTH)}${gap}${arm}${gap}${arm}`;
}

/** indexWidth: the stage number's columns; gap: between the arms; usd: the cost column's decimals; columns: those shown. */
function stageRow(
  stage: StageStats,
  current: boolean,
  { indexWidth, gap, usd, columns }: { indexWidth: number; gap: string; usd: number; columns: readonly ArmColumn[] },
  errorLimit: number | undefined,
): Line {
  const dim = stage.verdict === 'pending' || stage.verdict === 'skipped';
  const cells = (arm: ArmName): Segment[] => {
    const stats = stage.arms[arm];
    const all = armCells(stats, usd);
    const base: Tone = dim ? 'muted' : 'plain';
    const rateTone = dim ? base : errorRateTone(stats, errorLimit);
    return columns.map((c, i) => ({
      text: `${i === 0 ? gap : ' '}${fit(all[ARM_COLUMNS.indexOf(c)] ?? '', c.width, 'right')}`,
      tone: c.label === 'err%' ? rateTone : base,
    }));
  };
  return [
    { text: current ? '▶' : ' ', tone: 'accent' },
    { text: fit(String(stage.index + 1), indexWidth, 'right'), tone: current ? 'title' : dim ? 'muted' : 'plain' },
    { text: ` ${fit(formatWeight(stage.greenWeight), GREEN_WIDTH, 'right')} `, tone: dim ? 'muted' : 'plain' },
    { text: fit(stage.verdict, VERDICT_WIDTH), tone: VERDICT_TONES[stage.verdict] },
    ...cells('blue'),
    ...cells('green'),
  ];
}

/** An error rate at the limit reads red, past half of it amber; without a limit it stays plain. */
export function errorRateTone(stats: ArmStats, limit: number | undefined): Tone {
  if (limit === undefined || limit <= 0 || stats.requests === 0) return 'plain';
  const rate = stats.failures / stats.requests;
  if (rate >= limit) return 'bad';
  return rate >= limit / 2 ? 'warn' : 'plain';
}
