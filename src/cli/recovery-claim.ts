// One recovery of a state folder at a time. `bluegreen rollback` goes on without the folder's lock where it cannot
// write the folder, so the lock alone does not keep a new rollout (which recovers the folder's dead run first) from
// running on_rollback beside it: both also claim the folder's recovery guard (state/recovery-guard.ts).
import { CliError, EXIT } from '../core/exit.js';
import { claimRecoveryGuard, type RecoveryGuard } from '../state/recovery-guard.js';

/**
 * How long a holder is given to answer with its pid when the answer decides (the lock held): a bluegreen too slow to
 * answer (a loaded machine) is taken for a squatter, and a squatter that never answers costs this once.
 */
const JUDGED_ANSWER_MS = 10_000;

export interface RecoveryClaim {
  /** What the recovery is doing ("putting the rollout of plan "x" back on blue"), for the refusal. */
  what: string;
  /** What to do once the other recovery is done. */
  then: string;
  /** Whether this process holds the folder's lock: then only a bluegreen's guard is honoured. */
  locked: boolean;
  warn: (message: string) => void;
}

/**
 * The folder's recovery guard, or exit 2 while another recovery holds it. Any local user can bind the guard's name
 * (an abstract socket has no permissions): with the folder's lock held, a guard whose holder is not a living bluegreen
 * is a squatter's, said and gone past, or it would block every recovery of the folder. Without the lock, any holder
 * is honoured: two lock-free recoveries must never both run on_rollback.
 */
export async function claimRecovery(dir: string, claim: RecoveryClaim): Promise<RecoveryGuard> {
  const guard = await claimRecoveryGuard(dir, claim.locked ? JUDGED_ANSWER_MS : undefined);
  if (!('busy' in guard)) return guard;
  if (claim.locked && !guard.bluegreen) {
    const holder = guard.pid === undefined ? 'a process that did not say its pid' : `pid ${guard.pid}`;
    claim.warn(`ignored a recovery guard held by ${holder}, which is not a bluegreen process`);
    return { release: () => {} };
  }
  // Only a rollback holds the guard without the folder's lock, and only then can another bluegreen meet it.
  const who = guard.pid === undefined ? 'another bluegreen rollback' : `another bluegreen rollback (pid ${guard.pid})`;
  throw new CliError(`${who} is ${claim.what} right now; ${claim.then}`, EXIT.usage);
}
