// One warning for many stages: a 1,000-stage plan too short for min_requests gave ~470 near-identical lines, which
// bury every other warning. Past a few, a kind of stage warning is given once, naming the stages.
import type { PlanWarning } from './warnings.js';

/** A stage warning that may repeat: its kind, and its text for every stage of that kind (no one stage's figures). */
export interface StageRepeat {
  kind: string;
  index: number;
  /** The stage's key the warning is about: "duration", "green_weight". */
  field: string;
  message: string;
}

/** Up to this many of a kind are given one by one, each with its own figures. */
const ONE_BY_ONE = 3;

/** The warnings with each kind repeated past ONE_BY_ONE stages made one, where its first stood; `repeat` dropped. */
export function collapseRepeats(warnings: readonly PlanWarning[]): PlanWarning[] {
  const kinds = new Map<string, PlanWarning[]>();
  for (const warning of warnings) {
    if (warning.repeat === undefined) continue;
    const list = kinds.get(warning.repeat.kind);
    if (list) list.push(warning);
    else kinds.set(warning.repeat.kind, [warning]);
  }
  const out: PlanWarning[] = [];
  for (const warning of warnings) {
    const group = warning.repeat && kinds.get(warning.repeat.kind);
    // Given without `repeat`: a warning is its key path and message, wherever it is shown.
    if (!group || group.length <= ONE_BY_ONE) out.push({ keyPath: warning.keyPath, message: warning.message });
    else if (group[0] === warning) out.push(collapsed(group));
  }
  return out;
}

function collapsed(group: readonly PlanWarning[]): PlanWarning {
  const repeats = group.flatMap((warning) => (warning.repeat ? [warning.repeat] : []));
  const first = repeats[0] as StageRepeat;
  return {
    keyPath: `stages[${indexRanges(repeats.map((repeat) => repeat.index))}].${first.field}`,
    message: `${repeats.length} stages: ${first.message}`,
  };
}

/** "2-469, 480, 500-502": sorted stage indexes as runs. */
export function indexRanges(indexes: readonly number[]): string {
  const sorted = [...indexes].sort((a, b) => a - b);
  const runs: string[] = [];
  let start = sorted[0];
  for (let i = 0; start !== undefined && i < sorted.length; i++) {
    const index = sorted[i] as number;
    const next = sorted[i + 1];
    if (next === index + 1) continue;
    runs.push(start === index ? String(index) : `${start}-${index}`);
    start = next;
  }
  return runs.join(', ');
}
