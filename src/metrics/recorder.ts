// Per stage x arm counters, latency histograms, tokens and cost; plus rolling windows for live figures.
import type { ArmName } from '../plan/plan.js';
import type { Price } from '../plan/schema.js';
import type { UpstreamResult } from '../upstream/types.js';
import { LatencyHistogram } from './histogram.js';
import { emptyArmStats, type ArmStats, type StageStats, type StageVerdict, type WindowStats } from './types.js';
import { RollingWindow } from './window.js';

export interface RecorderOptions {
  stages: { name?: string; durationMs: number; greenWeight: number }[];
  prices: Record<ArmName, Price | undefined>;
  now: () => number;
  windowSeconds?: number;
}

/** Live counters of one arm in one stage; turned into plain ArmStats on demand. */
class ArmCell {
  readonly stats: ArmStats = emptyArmStats();
  readonly latency = new LatencyHistogram();
  readonly ttft = new LatencyHistogram();
  /** Percentiles are recomputed only when something was recorded since the last read. */
  private dirty = false;

  constructor(private readonly price: Price | undefined) {}

  record(result: UpstreamResult, qualityOk: boolean): void {
    const s = this.stats;
    s.inFlight = Math.max(0, s.inFlight - 1);
    s.requests++;
    s.retries += Math.max(0, result.attempts - 1);
    if (result.ok) {
      s.successes++;
      if (!qualityOk) s.qualityFailures++;
    } else {
      s.failures++;
      const failure = result.failure ?? 'server_error';
      s.failuresByClass[failure] = (s.failuresByClass[failure] ?? 0) + 1;
    }
    s.consecutiveFailures = result.ok && qualityOk ? 0 : s.consecutiveFailures + 1;
    this.latency.record(result.latencyMs);
    if (result.ok && result.ttftMs !== undefined) this.ttft.record(result.ttftMs);
    if (result.usage) {
      s.tokens.prompt += result.usage.promptTokens;
      s.tokens.completion += result.usage.completionTokens;
      if (this.price) {
        s.costUsd += (result.usage.promptTokens * this.price.input_per_mtok + result.usage.completionTokens * this.price.output_per_mtok) / 1e6;
      }
    }
    if (result.rateLimit) s.rateLimit = { ...s.rateLimit, ...result.rateLimit };
    this.dirty = true;
  }

  snapshot(): ArmStats {
    if (this.dirty) {
      this.stats.latency = this.latency.percentiles();
      this.stats.ttft = this.ttft.percentiles();
      this.dirty = false;
    }
    const s = this.stats;
    return { ...s, failuresByClass: { ...s.failuresByClass }, tokens: { ...s.tokens }, rateLimit: s.rateLimit && { ...s.rateLimit } };
  }
}

interface StageCell {
  info: Omit<StageStats, 'arms'>;
  arms: Record<ArmName, ArmCell>;
}

export class MetricsRecorder {
  private readonly cells: StageCell[];
  private readonly windows: Record<ArmName, RollingWindow>;

  constructor(private readonly options: RecorderOptions) {
    const seconds = options.windowSeconds ?? 10;
    this.windows = { blue: new RollingWindow(seconds, options.now), green: new RollingWindow(seconds, options.now) };
    this.cells = options.stages.map((stage, index) => ({
      info: { index, name: stage.name, greenWeight: stage.greenWeight, durationMs: stage.durationMs, verdict: 'pending' },
      arms: { blue: new ArmCell(options.prices.blue), green: new ArmCell(options.prices.green) },
    }));
  }

  private cell(index: number): StageCell {
    const cell = this.cells[index];
    if (!cell) throw new RangeError(`no stage ${index}`);
    return cell;
  }

  startStage(index: number): void {
    const info = this.cell(index).info;
    info.startedAt = this.options.now();
    info.verdict = 'running';
  }

  endStage(index: number, verdict: StageVerdict): void {
    const info = this.cell(index).info;
    if (info.startedAt !== undefined) info.endedAt = this.options.now();
    info.verdict = verdict;
  }

  /** A rollback or promotion changes the weight the stage actually ran at. */
  setStageWeight(index: number, greenWeight: number): void {
    this.cell(index).info.greenWeight = greenWeight;
  }

  recordDispatch(stage: number, arm: ArmName): void {
    this.cell(stage).arms[arm].stats.inFlight++;
  }

  recordDropped(stage: number, arm: ArmName): void {
    this.cell(stage).arms[arm].stats.dropped++;
  }

  recordResult(stage: number, result: UpstreamResult, quality: { ok: boolean }): void {
    this.cell(stage).arms[result.arm].record(result, quality.ok);
    this.windows[result.arm].record(result.ok, result.latencyMs);
  }

  stage(index: number): StageStats {
    const cell = this.cell(index);
    return { ...cell.info, arms: { blue: cell.arms.blue.snapshot(), green: cell.arms.green.snapshot() } };
  }

  stages(): StageStats[] {
    return this.cells.map((_, index) => this.stage(index));
  }

  window(arm: ArmName): WindowStats {
    return this.windows[arm].stats();
  }
}
