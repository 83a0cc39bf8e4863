// The JSON report's `live` section: what the proxies served, apart from the plan's generated traffic. The judge
// saw both together; per stage the generated figures are the judged ones minus the live ones (docs/live.md).
import type { LiveView } from '../../live/fleet.js';
import type { ArmStats, StageStats } from '../../metrics/types.js';
import type { LiveReport } from './live-report-schema.js';

function minus(judged: ArmStats | undefined, live: { requests: number; failures: number }): { requests: number; failures: number } {
  return { requests: Math.max(0, (judged?.requests ?? 0) - live.requests), failures: Math.max(0, (judged?.failures ?? 0) - live.failures) };
}

export function liveReport(view: LiveView, judged: readonly StageStats[]): LiveReport {
  return {
    leaseMs: view.leaseMs,
    proxies: view.proxies.map((proxy) => ({
      url: proxy.url,
      reachable: proxy.reachable,
      greenWeight: proxy.greenWeight,
      mirror: proxy.mirror,
      promotedArm: proxy.promotedArm ?? null,
      leaseExpiresAt: proxy.leaseExpiresAt ?? null,
      error: proxy.error ?? proxy.refused ?? null,
      missed: proxy.missed ?? 0,
    })),
    stages: view.stages.map((stage) => {
      const arms = judged[stage.stage]?.arms;
      return {
        index: stage.stage,
        live: { blue: { ...stage.arms.blue }, green: { ...stage.arms.green } },
        fallbacks: stage.fallbacks,
        mirrors: stage.mirrors,
        generated: { blue: minus(arms?.blue, stage.arms.blue), green: minus(arms?.green, stage.arms.green) },
      };
    }),
  };
}
