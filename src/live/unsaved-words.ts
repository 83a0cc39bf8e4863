// A route a proxy took and could not save (its state folder full or read-only: the admin API's 500, the route in
// force), said in one line from the 500's parts. One wording for the rollout's stages and ending (proxy-actuator.ts)
// and a dead rollout's recovery (restore.ts). A proxy before session 30 says it all in one message only.
import { AdminCallError, type UnsavedRoute } from './admin-client.js';

/** The proxy took the route and could not save it: the route is in force. */
export function isUnsaved(error: unknown): error is AdminCallError {
  return error instanceof AdminCallError && error.inForce;
}

/** "its route is in force but not saved (could not save the route to F: ENOSPC), so a restart would serve blue: …". */
export function routeNotSaved(error: AdminCallError): string {
  const unsaved = error.unsaved;
  if (unsaved === undefined) return error.message;
  return `its route is in force but not saved (${unsaved.error}), so a restart would serve ${unsaved.restartServes}: ${unsaved.fix}`;
}

/** "serving green, promoted, but could not save it (…), so a restart would serve blue: …, then promote it again by hand". */
export function promotionNotSaved(error: AdminCallError): string {
  const unsaved = error.unsaved;
  if (unsaved === undefined) return `serving green, promoted, not saved: ${error.message}`;
  return (
    `serving green, promoted, but could not save it (${unsaved.error}), so a restart would serve ${unsaved.restartServes}: ` +
    `${unsaved.fix}, then promote it again by hand (PUT /admin/route)`
  );
}

/**
 * "serving blue; could not save the route to F: ENOSPC, so a restart would serve blue", and whether that blue holds:
 * not when a restart would bring back a promotion saved there (then it says how to put it on blue for good), nor
 * when the proxy does not say (before session 30: to be checked by hand).
 */
export function blueNotSaved(error: AdminCallError): { holds: boolean; message: string } {
  const unsaved: UnsavedRoute | undefined = error.unsaved;
  if (unsaved === undefined) return { holds: false, message: `serving blue, not saved: ${error.message}` };
  const fix = unsaved.restartKeepsGreen ? `: ${unsaved.fix}, then put it on blue again (PUT /admin/route)` : '';
  return { holds: !unsaved.restartKeepsGreen, message: `serving blue; ${unsaved.error}, so a restart would serve ${unsaved.restartServes}${fix}` };
}
