// Preflight for a plan: open its endpoints (starting simulators if asked), check them, close them.
import { openEndpoints } from './endpoints.js';
import type { Plan } from '../plan/plan.js';
import { ARMS } from '../plan/plan.js';
import { preflight } from '../upstream/preflight.js';
import type { CliContext } from './context.js';

export async function runPreflight(plan: Plan, ctx: CliContext): Promise<{ warnings: string[] }> {
  const endpoints = await openEndpoints(plan);
  try {
    return await preflight(
      ARMS.map((arm) => endpoints.arms[arm]),
      { env: ctx.env, cwd: ctx.cwd },
    );
  } finally {
    await endpoints.close();
  }
}
