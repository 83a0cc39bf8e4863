// A live rollout without generated traffic or a health check sends nothing upstream itself: the proxies carry
// the application's requests with their own keys. Such a rollout opens no endpoint (no in-process simulator,
// no connection pool) and reads no key; its arm clients exist only to fill the engine's seat and say so if used.
import type { ArmClient } from '../engine/deps.js';
import type { ArmName, Plan } from '../plan/plan.js';
import { generatesTraffic } from '../plan/summary.js';

/** Whether the rollout itself would send nothing upstream (a live plan with no generated traffic, no health check). */
export function sendsNothingUpstream(plan: Plan): boolean {
  return !generatesTraffic(plan) && !plan.health_check;
}

export type ClosableArmClient = ArmClient & { close(): Promise<void> };

/** Arm clients for a rollout that sends nothing upstream: calling one is a wiring bug, reported as such. */
export function unusedArmClients(): Record<ArmName, ClosableArmClient> {
  const make = (arm: ArmName): ClosableArmClient => {
    const refuse = () => Promise.reject(new Error(`internal: the ${arm} client of a live rollout that sends nothing upstream was called`));
    return { send: refuse, listModels: refuse, close: () => Promise.resolve() };
  };
  return { blue: make('blue'), green: make('green') };
}
