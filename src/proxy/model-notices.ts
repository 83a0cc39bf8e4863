// What the proxy says, once each, when an application asks by name for a model it passes through though the
// application likely meant the model under rollout: green's model, or the previous plan's blue after "making green
// the new blue" (docs/live.md). Such requests go to blue's upstream untouched, neither split nor judged, so a
// rollout sees none of them (it ends "nothing judged", or judges only the others) and nothing else says why.
import type { Plan } from '../plan/plan.js';
import { passesThrough, type ProxySettings } from './config.js';
import type { RecordedPlan } from './route-file.js';

type Log = (message: string) => void;

/**
 * The previous plan's blue model when the application may still ask for it: the route file was recorded for
 * `recordedFor` (another plan), whose blue is neither this plan's blue, an alias, nor green.
 */
function previousBlue(plan: Plan, settings: Pick<ProxySettings, 'splitModels'>, recordedFor: RecordedPlan | undefined): string | undefined {
  const blue = recordedFor?.blueModel;
  return blue === undefined || settings.splitModels.has(blue) || blue === plan.arms.green.model ? undefined : blue;
}

/** How an application still asking for the previous plan's blue `old` is served by this plan's blue instead. */
function aliasFix(plan: Plan, old: string): string {
  const blue = plan.arms.blue.model;
  return `list it in proxy.alias (alias: [${old}]) so this plan's blue (${blue}) answers it, or have the application ask for ${blue}`;
}

/**
 * Said at the start when the route file was recorded for a previous plan whose blue this plan does not split: an
 * application still asking for it is not in the rollout. Undefined when there is nothing to say.
 */
export function previousBlueNotice(
  plan: Plan,
  settings: Pick<ProxySettings, 'splitModels' | 'passthrough'>,
  recordedFor: RecordedPlan | undefined,
): string | undefined {
  const old = previousBlue(plan, settings, recordedFor);
  if (old === undefined) return undefined;
  const served = passesThrough(settings.passthrough, old)
    ? `pass through to blue's upstream as another model (${old} itself), neither split nor judged`
    : 'are refused (404): proxy.passthrough does not list it';
  return `the saved route was recorded for ${recordedFor?.owner}, whose blue was ${old}: requests still asking for ${old} ${served}; ${aliasFix(plan, old)}`;
}

/**
 * Told of each model passed through; says once (each) when it is green's, or the previous plan's blue (see
 * previousBlueNotice). Undefined without a log.
 */
export function passthroughNotices(
  plan: Plan,
  settings: Pick<ProxySettings, 'splitModels'>,
  recordedFor: RecordedPlan | undefined,
  log: Log | undefined,
): ((model: string) => void) | undefined {
  if (log === undefined) return undefined;
  const green = plan.arms.green.model;
  const old = previousBlue(plan, settings, recordedFor);
  const notices = new Map<string, string>([
    [
      green,
      `a request asked for green's model (${green}) by name: it passes through to blue's upstream as another model, ` +
        `neither split nor judged; the application should ask for blue's model (${plan.arms.blue.model}), which the route sends to green in its share (said once)`,
    ],
  ]);
  if (old !== undefined) {
    notices.set(
      old,
      `a request asked for ${old}, the blue of the plan the saved route was recorded for (${recordedFor?.owner}): it passes through to blue's upstream ` +
        `as another model, neither split nor judged; ${aliasFix(plan, old)} (said once)`,
    );
  }
  return (model) => {
    const notice = notices.get(model);
    if (notice === undefined) return;
    notices.delete(model);
    log(notice);
  };
}
