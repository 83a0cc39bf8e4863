// bluegreen as a library: `import { rollout, loadPlan } from 'bluegreen'`. See docs/api.md.
export { rollout, type RolloutOptions, type RolloutResult } from './api.js';
export { loadPlan } from './plan/load.js';
export type { Plan, ArmName } from './plan/plan.js';
export { PlanError } from './plan/errors.js';
export { RolloutEngine, type RolloutOutcome } from './engine/rollout.js';
export type { EngineDeps, Judge, HookRunner } from './engine/deps.js';
export type { Actuator, ActuationResult, StageMove, EndingMove } from './engine/actuator.js';
export type { TrafficSource, TrafficSourceFactory, TrafficContext } from './engine/traffic-source.js';
export type { EventType, Phase, RolloutEvent, RolloutSnapshot, RolloutView } from './engine/types.js';
export { FINAL_PHASES } from './engine/types.js';
export { evaluate, type EvaluateInput } from './analysis/index.js';
export type { Breach, CheckResult, Verdict } from './analysis/types.js';
export { EXIT, describeExit, CliError } from './core/exit.js';
export { systemClock, type Clock, type TimerHandle } from './core/clock.js';
export { startSimulator, type SimulatorHandle } from './sim/index.js';
