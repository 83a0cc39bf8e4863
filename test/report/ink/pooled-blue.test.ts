// The dashboard says when a stage's comparisons with blue judge against blue pooled over the stages so far (the stage
// sends blue too few requests, as at 100% green): their blue count ("n=40/312") read as this stage's blue, which the
// stage table shows at 0 (session 35's user test), unlabelled.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { snapshotPlan } from '../../../src/engine/snapshot.js';
import { loadPlan } from '../../../src/plan/load.js';
import { checkSectionHeight, checkSectionLines } from '../../../src/report/ink/check-lines.js';
import { lineText } from '../../../src/report/ink/view-types.js';
import { progressingSnapshot } from './fixtures.js';

const POOLED = /^ {2}vs blue: blue of stages 1–3 pooled \(this stage sends blue too few requests\)$/;

describe('pooled blue beside the comparisons', () => {
  it('marks the stages whose comparisons judge against blue so far: the demo at 75% and 100% green (60 and 0 blue planned)', () => {
    const plan = snapshotPlan(loadPlan(path.resolve('rollouts/demo.yaml'), process.cwd()));
    expect(plan.stages.map((stage) => stage.blueSoFar === true)).toEqual([false, false, false, true, true]);
    // A live plan (no planned rate): only its stage at 100% green.
    const live = snapshotPlan(loadPlan(path.resolve('rollouts/demo-live.yaml'), process.cwd()));
    expect(live.stages.map((stage) => stage.blueSoFar === true)).toEqual([false, false, false, true]);
  });

  it('says it under the checks in such a stage, counted in the layout, and not in a stage judged on its own blue', () => {
    const own = progressingSnapshot();
    expect(own.checks.some((check) => check.blueSample !== undefined)).toBe(true);
    const pooled = {
      ...own,
      plan: { ...own.plan, stages: own.plan.stages.map((stage, i) => (i === own.stageIndex ? { ...stage, blueSoFar: true as const } : stage)) },
    };
    const lines = checkSectionLines(pooled, 80).map(lineText);
    expect(lines.filter((line) => POOLED.test(line))).toHaveLength(1);
    expect(lines.at(-1)).not.toMatch(POOLED);
    expect(checkSectionHeight(pooled, 80)).toBe(lines.length);
    expect(
      checkSectionLines(own, 80)
        .map(lineText)
        .some((line) => line.includes('pooled')),
    ).toBe(false);
    // No comparison among the checks: nothing to label.
    const noComparison = { ...pooled, checks: pooled.checks.filter((check) => check.blueSample === undefined) };
    expect(
      checkSectionLines(noComparison, 80)
        .map(lineText)
        .some((line) => line.includes('pooled')),
    ).toBe(false);
  });
});
