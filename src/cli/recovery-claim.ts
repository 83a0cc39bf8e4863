// One recovery of a state folder at a time. `bluegreen rollback` goes on without the folder's lock where it cannot
// write the folder, so the lock alone does not keep a new rollout (which recovers the folder's dead run first) from
// running on_rollback beside it: both also claim the folder's recovery guard (state/recovery-guard.ts).
import { CliError, EXIT } from '../core/exit.js';
import { claimRecoveryGuard, type RecoveryGuard } from '../state/recovery-guard.js';

/**
 * The folder's recovery guard, or exit 2 while another recovery holds it: `what` is what it is doing ("putting the
 * rollout of plan "x" back on blue"), `then` what to do once it is done.
 */
export async function claimRecovery(dir: string, what: string, then: string): Promise<RecoveryGuard> {
  const guard = await claimRecoveryGuard(dir);
  if (!('busy' in guard)) return guard;
  // Only a rollback holds the guard without the folder's lock, and only then can another bluegreen meet it.
  const who = guard.pid === undefined ? 'another bluegreen rollback' : `another bluegreen rollback (pid ${guard.pid})`;
  throw new CliError(`${who} is ${what} right now; ${then}`, EXIT.usage);
}
