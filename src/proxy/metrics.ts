// The proxy's figures per arm: the traffic path's MetricsRecorder (so requests, failures by class, latency,
// TTFT, tokens and cost are counted the same way and judged by the same analysis), plus what only a proxy
// has: fallbacks, mirrors, client aborts and requests it refused itself.
import type { QualityChecker } from '../analysis/quality.js';
import { MetricsRecorder } from '../metrics/recorder.js';
import type { ArmStats } from '../metrics/types.js';
import type { ArmName } from '../plan/plan.js';
import type { Price } from '../plan/schema.js';
import type { UpstreamResult } from '../upstream/types.js';

/** Why the proxy answered a request itself instead of forwarding it. */
export type RejectReason = 'unauthorized' | 'bad_request' | 'too_large' | 'overloaded' | 'not_found' | 'timeout';
export const REJECT_REASONS: readonly RejectReason[] = ['unauthorized', 'bad_request', 'too_large', 'overloaded', 'not_found', 'timeout'];

export interface ProxyArmFigures extends ArmStats {
  /** Requests whose client went away before the answer was whole; not counted as requests. */
  clientAborts: number;
}

export interface ProxyFigures {
  /** Epoch ms the figures start from. */
  since: number;
  arms: Record<ArmName, ProxyArmFigures>;
  /** Green attempts that failed before their first byte and were answered by blue. */
  fallbacks: number;
  /** Copies sent to green in the background, and copies dropped at the mirror in-flight limit. */
  mirrors: { sent: number; dropped: number };
  rejected: Record<RejectReason, number>;
  /** Requests for other models, sent to blue's upstream untouched and kept out of the arms' figures. */
  passedThrough: number;
}

/** Where one recorded result came from. */
export type ResultKind = 'routed' | 'fallback' | 'mirror';

export interface ResultListener {
  (result: UpstreamResult, kind: ResultKind): void;
}

// The recorder keeps figures per stage; the proxy has one live stage until a rollout drives it.
const LIVE = 0;

export class ProxyMetrics {
  private readonly recorder: MetricsRecorder;
  private readonly since: number;
  private readonly inFlight: Record<ArmName, number> = { blue: 0, green: 0 };
  private readonly clientAborts: Record<ArmName, number> = { blue: 0, green: 0 };
  private readonly rejected = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;
  private fallbacks = 0;
  private mirrorsSent = 0;
  private mirrorsDropped = 0;
  private passed = 0;
  private readonly listeners: ResultListener[] = [];

  constructor(options: { prices: Record<ArmName, Price | undefined>; quality: QualityChecker; now: () => number }) {
    this.quality = options.quality;
    this.since = options.now();
    this.recorder = new MetricsRecorder({ stages: [{ name: 'live', durationMs: 0, greenWeight: 0 }], prices: options.prices, now: options.now });
    this.recorder.startStage(LIVE);
  }

  private readonly quality: QualityChecker;

  /** Called with every recorded result (the Prometheus histograms listen here). */
  onResult(listener: ResultListener): void {
    this.listeners.push(listener);
  }

  started(arm: ArmName): void {
    this.inFlight[arm]++;
  }

  /** The client went away: the attempt is neither a success nor the arm's failure. */
  cancelled(arm: ArmName): void {
    this.inFlight[arm]--;
    this.clientAborts[arm]++;
  }

  finished(result: UpstreamResult, kind: ResultKind): void {
    this.inFlight[result.arm]--;
    this.recorder.recordResult(LIVE, result, this.quality(result));
    if (kind === 'mirror') this.mirrorsSent++;
    for (const listener of this.listeners) listener(result, kind);
  }

  fellBack(): void {
    this.fallbacks++;
  }

  passedThrough(): void {
    this.passed++;
  }

  mirrorDropped(): void {
    this.mirrorsDropped++;
  }

  reject(reason: RejectReason): void {
    this.rejected[reason]++;
  }

  inFlightOf(arm: ArmName): number {
    return this.inFlight[arm];
  }

  snapshot(): ProxyFigures {
    const stage = this.recorder.stage(LIVE);
    const arm = (name: ArmName): ProxyArmFigures => ({ ...stage.arms[name], inFlight: this.inFlight[name], clientAborts: this.clientAborts[name] });
    return {
      since: this.since,
      arms: { blue: arm('blue'), green: arm('green') },
      fallbacks: this.fallbacks,
      mirrors: { sent: this.mirrorsSent, dropped: this.mirrorsDropped },
      rejected: { ...this.rejected },
      passedThrough: this.passed,
    };
  }
}
