// What the rollout engine is given: every outside effect (time, network, files, hooks) comes in here.
import type { HookEvent as HookCall } from '../hooks/types.js';
import type { EvaluateInput } from '../analysis/evaluate.js';
import type { Verdict } from '../analysis/types.js';
import type { HookConfig } from '../plan/schema.js';
import type { ArmName, Plan } from '../plan/plan.js';
import type { SignalWatch } from '../upstream/signal-watch.js';
import type { ChatRequest, ModelList, UpstreamResult } from '../upstream/types.js';
import type { Clock } from '../core/clock.js';
import type { StageStats } from '../metrics/types.js';
import type { Actuator } from './actuator.js';
import type { TrafficSourceFactory } from './traffic-source.js';
import type { RolloutEvent, RolloutSnapshot } from './types.js';

export interface ArmClient {
  /** `cancel`: the caller's shared signal, watched once (src/upstream/signal-watch.ts). */
  send(request: ChatRequest, cancel?: SignalWatch): Promise<UpstreamResult>;
  listModels(cancel?: SignalWatch): Promise<ModelList>;
}

export interface RequestSource {
  next(): ChatRequest;
}

export interface Splitter {
  choose(greenWeight: number, stickyKey?: string): ArmName;
}

// The hook's contract is the hooks module's own; the engine only calls it through HookRunner.
export type { HookEvent as HookCall, HookEventName } from '../hooks/types.js';

/** Runs one hook; aborting the signal stops it (an exec hook's whole process group is killed). */
export type HookRunner = (hook: HookConfig, call: HookCall, signal?: AbortSignal) => Promise<{ ok: boolean; message: string }>;

/** Turns a stage's figures into a verdict; the analysis module's evaluate() unless a test or embedder swaps it. */
export type Judge = (input: EvaluateInput) => Verdict;

/** Where the engine's record goes (the state store in production, memory in tests). */
export interface Persistence {
  appendEvent(event: RolloutEvent): void;
  /** Rewrites state.json; the engine runs one write at a time (see StateSaver), so this may be slow. */
  writeState(snapshot: RolloutSnapshot): Promise<void> | void;
}

export type ControlAction = 'pause' | 'resume' | 'promote' | 'abort';

export interface ControlRequest {
  action: ControlAction;
  actor: string;
}

export interface Arrivals {
  start(): void;
  stop(): void;
}

export interface EngineDeps {
  plan: Plan;
  clients: Record<ArmName, ArmClient>;
  traffic: RequestSource;
  splitter: Splitter;
  clock: Clock;
  /** Builds the arrival scheduler; the engine calls onArrival for each request due. */
  arrivals: (onArrival: () => void) => Arrivals;
  persistence: Persistence;
  runHook: HookRunner;
  /** Pending operator requests from other terminals, polled a few times a second. */
  takeControlRequests?: () => ControlRequest[];
  pid: number;
  /** How often state.json is rewritten while running. */
  stateIntervalMs?: number;
  /** The verdict for a stage's figures; default evaluate() from src/analysis. */
  judge?: Judge;
  /** Where requests come from; default: generated traffic built from clients, traffic, splitter and arrivals. */
  sources?: TrafficSourceFactory[];
  /** What moves real traffic besides the plan's hooks (the live proxies). */
  actuators?: Actuator[];
  /** Zero-based stage to start at (`rollout --resume`); default 0. */
  startStage?: number;
  /**
   * `rollout --resume`: the dead run's per-stage figures from its state.json. The stages up to startStage go
   * on from them, so the resumed stage's tests continue rather than start over with a fresh budget; the stages
   * before it keep the checks they passed on (StageStats.checks), which the report shows.
   */
  carried?: readonly Partial<Pick<StageStats, 'arms' | 'checks' | 'startedAt' | 'endedAt'>>[];
  /**
   * `rollout --resume`: the runs the journal shows (its rollout_started lines: the first run and each resume), the
   * most crashes the carried figures' lost requests can have come from (metrics/carry.ts). Unset: unbounded.
   */
  carriedRuns?: number;
  /**
   * Set when green is already promoted where this rollout would move traffic (a re-run after a promotion): the
   * rollout ends at once as promoted with this reason, moving nothing and running no hook.
   */
  alreadyPromoted?: string;
  /**
   * Warnings from before the start (--from-blue undoing a promotion): journaled right after rollout_started, so the
   * dashboard, drawn over the terminal, shows them where lines written before it scrolled away.
   */
  startWarnings?: readonly string[];
}
