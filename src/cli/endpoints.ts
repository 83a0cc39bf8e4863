// Gives every arm a concrete base URL: a real endpoint as planned, or a simulator started on loopback.
import type { ArmName, Plan, UpstreamConfig } from '../plan/plan.js';
import { ARMS } from '../plan/plan.js';
import type { SimulateConfig } from '../plan/schema.js';
import type { SimulatorHandle } from '../sim/index.js';

export type ResolvedUpstream = UpstreamConfig & { baseUrl: string };

export interface ArmEndpoint {
  arm: ArmName;
  model: string;
  upstream: ResolvedUpstream;
}

export interface Endpoints {
  arms: Record<ArmName, ArmEndpoint>;
  simulators: SimulatorHandle[];
  close(): Promise<void>;
}

export async function openEndpoints(plan: Plan, options: { now?: () => number } = {}): Promise<Endpoints> {
  // Arms that share one simulate block share one simulator, as they would share one real upstream.
  const started = new Map<SimulateConfig, SimulatorHandle>();
  const simulators: SimulatorHandle[] = [];
  const arms = {} as Record<ArmName, ArmEndpoint>;
  try {
    for (const arm of ARMS) {
      const upstream = plan.arms[arm].upstream;
      let baseUrl = upstream.baseUrl;
      if (upstream.simulate) {
        let sim = started.get(upstream.simulate);
        if (!sim) {
          // The simulator loads only for a plan that asks for one: a real upstream's rollout or proxy never does.
          const { startSimulator } = await import('../sim/index.js');
          sim = await startSimulator(upstream.simulate, { port: upstream.simulate.port, now: options.now });
          started.set(upstream.simulate, sim);
          simulators.push(sim);
        }
        baseUrl = sim.baseUrl;
      }
      if (!baseUrl) throw new Error(`the ${arm} arm has no endpoint`);
      arms[arm] = { arm, model: plan.arms[arm].model, upstream: { ...upstream, baseUrl } };
    }
  } catch (error) {
    await Promise.all(simulators.map((sim) => sim.close()));
    throw error;
  }
  return {
    arms,
    simulators,
    close: async () => {
      await Promise.all(simulators.map((sim) => sim.close()));
    },
  };
}
