// The line reporter's checks line: every judged rule with its estimate, interval, limit and status.
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/analysis/index.js';
import { emptyArmStats } from '../../src/metrics/types.js';
import type { RolloutEvent } from '../../src/engine/types.js';
import { MetricsRecorder } from '../../src/metrics/index.js';
import { createLineReporter, formatChecksLine, formatDrainingLine, formatEventLine, formatMonitorLine, formatStageEndLine } from '../../src/report/line.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { loadTestPlan, promotedSnapshot } from './outcome/fixtures.js';

describe('formatChecksLine', () => {
  it('lists each sequential check with its bounds, and nothing before any check', () => {
    const plan = loadTestPlan();
    const snapshot = promotedSnapshot(plan);
    const green = { ...emptyArmStats(), requests: 400, successes: 392, failures: 8, slow: { latency: { 5000: 4 }, ttft: {} } };
    const blue = { ...emptyArmStats(), requests: 1200, successes: 1194, failures: 6 };
    const { checks } = evaluate({ stageIndex: 1, stageCount: 5, green, blue, config: plan.analysis });
    const line = formatChecksLine({ ...snapshot, stageIndex: 1, checks }, Date.UTC(2025, 0, 15, 12, 0, 5));
    expect(line).toMatch(
      /^12:00:05\.000 checks {11}stage 2\/5 \(bounds 99\.93% sure\): error_rate 2\.0% \[[\d.]+–[\d.]+%\] vs 5\.0% (ok|undecided) \| compare_to_blue\.max_error_rate_increase \+1\.5 points \[-[\d.]+ to \+[\d.]+ points\] vs \+2\.0 points undecided \| latency_p95 over 5\.00s 1\.0% \[[\d.]+–[\d.]+%\] vs 5\.0% (ok|undecided)$/,
    );
    expect(formatChecksLine({ ...snapshot, checks: [] }, 0)).toBeUndefined();
  });
});

// lows29: the dashboard and `status` said a resumed stage's requests lost at a crash; the monitor line did not.
describe('formatMonitorLine', () => {
  it("says the stage's requests lost at a crash after those in flight, green first, only when there are some", () => {
    const snapshot = promotedSnapshot(loadTestPlan());
    const at = Date.UTC(2025, 0, 15, 12, 0, 5);
    const stages = snapshot.stages.map((stage) => ({ ...stage, arms: { blue: { ...stage.arms.blue }, green: { ...stage.arms.green } } }));
    const lost = { ...snapshot, stageIndex: 1, stages };
    expect(formatMonitorLine(lost, at)).toMatch(/ \| in flight 0, dropped 0$/);
    stages[1]!.arms.green.lost = 3;
    stages[1]!.arms.blue.lost = 1;
    expect(formatMonitorLine(lost, at)).toMatch(/ \| in flight 0, dropped 0, lost at a crash \(never answered\): green 3, blue 1$/);
    // Another stage's are not this one's.
    expect(formatMonitorLine({ ...lost, stageIndex: 0 }, at)).toMatch(/, dropped 0$/);
  });
});

describe('formatEventLine', () => {
  const at = Date.UTC(2025, 0, 15, 12, 0, 1);
  it('names the stage once: before the message, unless the message begins with it', () => {
    // Found in session 22: "stage_started    stage 3: stage 3/5 started".
    expect(formatEventLine({ at, type: 'stage_started', stage: 2, message: 'stage 3/5 started: 50% green for 2m' })).toBe(
      '12:00:01.000 stage_started    stage 3/5 started: 50% green for 2m',
    );
    expect(formatEventLine({ at, type: 'stage_passed', stage: 2, message: 'stage 3/5 passed at 50% green' })).toBe(
      '12:00:01.000 stage_passed     stage 3/5 passed at 50% green',
    );
    expect(formatEventLine({ at, type: 'warning', stage: 1, message: 'stopped the on_rollback hook' })).toBe(
      '12:00:01.000 warning          stage 2: stopped the on_rollback hook',
    );
    // Stage 1's prefix stays before a message about stage 12, and an event outside any stage has none.
    expect(formatEventLine({ at, type: 'warning', stage: 0, message: 'stage 12 is long' })).toBe('12:00:01.000 warning          stage 1: stage 12 is long');
    expect(formatEventLine({ at, type: 'rollout_started', message: 'rollout "x" started' })).toBe('12:00:01.000 rollout_started : rollout "x" started');
  });
});

describe('createLineReporter', () => {
  const event = (at: number, type: RolloutEvent['type'], message: string): RolloutEvent => ({ at, type, message, stage: 1 });

  it('gives way to an ending line once the ending begins, drops the journal-only finished line, and prints nothing after the closing line', async () => {
    const clock = new FakeClock(Date.UTC(2025, 0, 15, 12, 0, 0));
    const snapshot = promotedSnapshot(loadTestPlan());
    const lines: string[] = [];
    const reporter = createLineReporter({ write: (line) => lines.push(line), snapshot: () => snapshot, clock, monitorIntervalMs: 5000 });
    await clock.advance(5000);
    expect(lines.some((line) => / monitor +stage /.test(line))).toBe(true);
    reporter.onEvent(event(clock.now(), 'interrupted', 'interrupted by SIGINT: rolling back to blue'));
    await clock.advance(5000);
    expect(lines.at(-1)).toMatch(/^12:00:10\.000 ending +(\d+ requests? still in flight|waiting for the ending hook to finish)$/);
    reporter.onEvent(event(clock.now(), 'drained', 'in-flight requests finished'));
    // Nothing is left to wait for but the closing line: no "waiting for the ending hook" with no hook to run.
    const drainedAt = lines.length;
    await clock.advance(5000);
    expect(lines.length).toBe(drainedAt);
    reporter.onEvent(event(clock.now(), 'finished', 'interrupted (exit 130): interrupted by SIGINT; rolled back to blue'));
    reporter.finish({ phase: 'interrupted', exitCode: 130, reason: 'interrupted by SIGINT; rolled back to blue' });
    const count = lines.length;
    reporter.onEvent(event(clock.now(), 'warning', 'late'));
    await clock.advance(60_000);
    expect(lines.length).toBe(count);
    expect(lines.at(-1)).toBe('bluegreen: exit 130 — interrupted by SIGINT; rolled back to blue');
    expect(lines.filter((line) => line.includes(' finished '))).toEqual([]);
    expect(lines.filter((line) => line.includes('interrupted by SIGINT; rolled back to blue'))).toHaveLength(1);
  });
});

// Found in session 13: only a wait that timed out said anything, minutes after the stage's time was up.
describe("the line reporter during a stage's end waiting for its requests", () => {
  it('writes a stage-end line after each monitor line while it waits, counting down from the snapshot', async () => {
    const clock = new FakeClock(Date.UTC(2025, 0, 15, 12, 0, 0));
    const base = promotedSnapshot(loadTestPlan());
    let snapshot = { ...base, phase: 'progressing' as const, endedAt: undefined, stageIndex: 1, updatedAt: clock.now() };
    const lines: string[] = [];
    createLineReporter({ write: (line) => lines.push(line), snapshot: () => snapshot, clock, monitorIntervalMs: 5000 });
    await clock.advance(5000);
    expect(lines.filter((line) => line.includes('stage-end'))).toEqual([]);
    snapshot = { ...snapshot, updatedAt: clock.now() + 5000, stageEndWait: { stage: 1, requests: 14, upToMs: 243_000 } };
    await clock.advance(5000);
    const monitor = lines.findLastIndex((line) => / monitor +stage 2\//.test(line));
    expect(lines[monitor + 1]).toBe('12:00:10.000 stage-end        stage 2 ending: waiting for 14 requests in flight (up to 4m03s)');
    expect(formatStageEndLine({ ...snapshot, updatedAt: clock.now() - 3000 }, clock.now())).toBe(
      '12:00:10.000 stage-end        stage 2 ending: waiting for 14 requests in flight (up to 4m00s)',
    );
    snapshot = { ...snapshot, stageEndWait: undefined };
    await clock.advance(5000);
    expect(lines.slice(monitor + 2).filter((line) => line.startsWith('12:00:15') && line.includes('stage-end'))).toEqual([]);
  });
});

// Found in session 27: during a live rollout's ending hook the line said "7 requests still in flight" from the
// proxies' last read before the ending, which stops reading them (one last read comes after the hook) and never
// waits for them: a figure minutes old, of requests nothing waited for.
describe('the ending line', () => {
  it("counts the rollout's own requests in flight, not the proxies' from their last read before the ending", () => {
    const metrics = new MetricsRecorder({
      stages: [{ durationMs: 60_000, greenWeight: 0.5 }],
      prices: { blue: { input_per_mtok: 1, output_per_mtok: 1 }, green: { input_per_mtok: 1, output_per_mtok: 1 } },
      now: () => 0,
    });
    metrics.startStage(0);
    metrics.setInFlightAtProxies(0, 'blue', 4);
    metrics.setInFlightAtProxies(0, 'green', 3);
    const at = Date.UTC(2025, 0, 15, 12, 0, 10);
    const snapshot = { ...promotedSnapshot(loadTestPlan()), stageIndex: 0, stages: metrics.stages() };
    expect(snapshot.stages[0]!.arms.green).toMatchObject({ inFlight: 3, atProxies: 3 });
    expect(formatDrainingLine(snapshot, at)).toBe('12:00:10.000 ending           waiting for the ending hook to finish');
    metrics.recordDispatch(0, 'green', false);
    metrics.recordDispatch(0, 'blue', false);
    expect(formatDrainingLine({ ...snapshot, stages: metrics.stages() }, at)).toBe('12:00:10.000 ending           2 requests still in flight');
  });

  it("counts an earlier stage's requests still running too, which the ending drains (newuser32: not the ending hook of a plan with none)", () => {
    const metrics = new MetricsRecorder({
      stages: [
        { durationMs: 10_000, greenWeight: 0.1 },
        { durationMs: 10_000, greenWeight: 0.5 },
      ],
      prices: { blue: { input_per_mtok: 1, output_per_mtok: 1 }, green: { input_per_mtok: 1, output_per_mtok: 1 } },
      now: () => 0,
    });
    metrics.startStage(0);
    metrics.recordDispatch(0, 'blue', false);
    metrics.recordDispatch(0, 'green', false);
    metrics.recordDispatch(0, 'blue', false);
    metrics.startStage(1);
    const at = Date.UTC(2025, 0, 15, 12, 0, 10);
    const snapshot = { ...promotedSnapshot(loadTestPlan()), stageIndex: 1, stages: metrics.stages() };
    expect(formatDrainingLine(snapshot, at)).toBe('12:00:10.000 ending           3 requests still in flight');
  });
});
