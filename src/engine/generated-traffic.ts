// Generated traffic as a TrafficSource: the open-model arrival scheduler feeds the dispatcher, which sends each
// request to the arm the splitter picks at the current weight.
import type { Clock } from '../core/clock.js';
import type { UpstreamResult } from '../upstream/types.js';
import type { ArmName } from '../plan/plan.js';
import { createQualityChecker } from '../analysis/index.js';
import type { ArmClient, Arrivals, EngineDeps, RequestSource, Splitter } from './deps.js';
import { Dispatcher } from './dispatcher.js';
import type { TrafficSource, TrafficSourceFactory } from './traffic-source.js';

export interface GeneratedTrafficOptions {
  clients: Record<ArmName, ArmClient>;
  traffic: RequestSource;
  splitter: Splitter;
  arrivals: (onArrival: () => void) => Arrivals;
  maxInFlight: number;
  checkQuality: (result: UpstreamResult) => { ok: boolean; reason?: string };
  clock: Clock;
}

export function generatedTraffic(options: GeneratedTrafficOptions): TrafficSourceFactory {
  return (context): TrafficSource => {
    const dispatcher = new Dispatcher({
      clients: options.clients,
      traffic: options.traffic,
      splitter: options.splitter,
      metrics: context.metrics,
      maxInFlight: options.maxInFlight,
      checkQuality: options.checkQuality,
      onGreenResult: (result, quality) => context.onGreenResult(result, quality),
      onFailure: context.onFailure ? (arm, result) => context.onFailure?.(arm, result) : undefined,
      greenWatch: context.greenWatch,
    });
    const arrivals = options.arrivals(() => {
      const current = context.current();
      if (current) dispatcher.dispatch(current.stage, current.greenWeight);
    });
    return {
      start: () => arrivals.start(),
      stop: () => arrivals.stop(),
      drain: (timeoutMs) => dispatcher.drain(timeoutMs, (fn, ms) => options.clock.setTimer(fn, ms)),
      cancelAll: () => dispatcher.cancelAll(),
    };
  };
}

/** The engine's sources: the ones it was given, or generated traffic from its clients and traffic mix. */
export function sourcesOf(deps: EngineDeps): TrafficSourceFactory[] {
  const { plan } = deps;
  return (
    deps.sources ?? [
      generatedTraffic({
        clients: deps.clients,
        traffic: deps.traffic,
        splitter: deps.splitter,
        arrivals: deps.arrivals,
        maxInFlight: plan.traffic.max_in_flight,
        checkQuality: createQualityChecker(plan.analysis.quality),
        clock: deps.clock,
      }),
    ]
  );
}
