// Which proxies a dead live rollout's recovery tells to serve blue: the ones the dead run drove, as its record kept
// them, and the ones its plan lists now. The plan's admin_urls may have been edited since the run started (a proxy
// moved, one dropped): a proxy the dead run drove and the plan no longer lists would otherwise stay on green.
import { UsageError } from '../core/exit.js';
import type { Plan } from '../plan/plan.js';
import { liveTargets } from './controller.js';
import { sameUrl } from './recorded-proxies.js';

export interface RecoveryTargets {
  /** The dead run's recorded proxies first, then the plan's others. */
  urls: string[];
  token: string;
  /** Where the lists differ, which proxy came from where; undefined when they are the same. */
  note?: string;
}

/**
 * The union of `recorded` and the plan's proxies, with the admin token. A token not set is the UsageError
 * liveTargets gives; a plan naming no proxy (no admin_urls, no proxy.json) is one only when nothing was recorded.
 */
export function recoveryTargets(plan: Plan, stateDir: string, env: NodeJS.ProcessEnv, recorded: readonly string[]): RecoveryTargets {
  let planned: string[] = [];
  let token: string;
  try {
    ({ urls: planned, token } = liveTargets(plan, stateDir, env));
  } catch (error) {
    if (error instanceof UsageError || recorded.length === 0) throw error;
    // No proxy named by the plan or the folder now: the recorded ones are told (the token was found first).
    token = env[plan.proxy?.admin?.token_env ?? ''] as string;
  }
  const recordedSet = new Set(recorded.map(sameUrl));
  const plannedSet = new Set(planned.map(sameUrl));
  const urls = [...new Set([...recorded, ...planned].map(sameUrl))];
  const onlyRecorded = [...recordedSet].filter((url) => !plannedSet.has(url));
  const onlyPlanned = [...plannedSet].filter((url) => !recordedSet.has(url));
  if (recorded.length === 0 || (onlyRecorded.length === 0 && onlyPlanned.length === 0)) return { urls, token };
  const parts = [
    onlyRecorded.length > 0 && `${onlyRecorded.join(', ')} (driven by the rollout that died, as its state records, and not listed by ${plan.source.file} now)`,
    onlyPlanned.length > 0 && `${onlyPlanned.join(', ')} (listed by ${plan.source.file} now, not driven by the rollout that died)`,
  ].filter((part): part is string => typeof part === 'string');
  return { urls, token, note: `the proxies to put back on blue differ from the plan's: ${parts.join('; ')}; each of them is asked` };
}
