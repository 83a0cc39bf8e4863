// `bluegreen rollback --force-blue` on a rollout already marked rolled back (or aborted): its recovery left a proxy
// to another rollout, or to an operator's route, and the operator now wants it on blue all the same. Only the
// proxies move (blue by hand, as `--force-blue` always is); the record's outcome stays as it was, and the journal
// notes what was done and by whom.
import type { RolloutSnapshot } from '../engine/types.js';
import { endedText } from '../engine/endings.js';
import { CliError, EXIT, UsageError } from '../core/exit.js';
import { proxiesToBlue, tokenChecked, tokenRefusedProblem } from '../live/restore.js';
import { recordedLeases, recordedProxies } from '../live/recorded-proxies.js';
import type { StateStore } from '../state/index.js';
import type { CliContext } from './context.js';
import { operatorName } from './operator.js';
import { planFor } from './dead-run-plan.js';
import { RecoveryJournal } from './recover.js';

/** Puts every proxy of the ended rollout's plan (and every one it recorded) on blue; its message, or a CliError. */
export async function forceBlueAfterEnd(store: StateStore, snapshot: RolloutSnapshot, ctx: CliContext, planFile?: string, now = Date.now): Promise<string> {
  const ended = endedText(snapshot);
  // A promotion is the rollout's outcome, not a leftover of its recovery: undoing it is a decision of its own.
  if (snapshot.phase === 'promoted')
    throw new UsageError(
      `the rollout of plan "${snapshot.plan.name}" promoted green (${ended}); --force-blue after the end is for a rollout that ended on blue and left a proxy to someone else: to put its proxies on blue, PUT /admin/route {"greenWeight":0,"mirror":0} on each`,
    );
  const plan = planFor({ snapshot, ctx, planFile }, (message) => ctx.stderr.write(`bluegreen: warning: ${message}\n`));
  if (!plan.proxy?.admin)
    throw new UsageError(
      `--force-blue puts a live plan's proxies on blue, and ${plan.source.file} has no proxy.admin; the rollout already ended (${ended}): nothing to do`,
    );
  // A proxy refusing the admin token stops it before any proxy moves, as `bluegreen rollback` is stopped; what each
  // answered is what it is then told from (one round of reads).
  const recorded = recordedProxies(store.dir, snapshot);
  const { refused: refusedBefore, reads } = await tokenChecked(plan, store.dir, ctx.env, recorded);
  if (refusedBefore !== undefined) throw new UsageError(refusedBefore.replace('run bluegreen rollback again', 'run bluegreen rollback --force-blue again'));
  const actor = `${operatorName(ctx.env)} (bluegreen rollback --force-blue)`;
  const reason = `put on blue by hand by ${actor}, after the rollout ended (${ended})`;
  // A journal line it cannot write (a read-only or full folder) does not stop the proxies' move: it is said at the end.
  const journal = new RecoveryJournal(store);
  const { proxies, note } = await proxiesToBlue(plan, store.dir, ctx.env, reason, {
    force: true,
    ended: true,
    recorded,
    reads,
    // A proxy not told is said with its last lease, in its tense, as a dead run's recovery says it.
    leases: recordedLeases(store.dir, snapshot),
    now,
  });
  if (note !== undefined) ctx.stderr.write(`bluegreen: warning: ${note}\n`);
  for (const proxy of proxies)
    journal.appendEvent({
      at: now(),
      type: proxy.told ? 'hook_succeeded' : 'hook_failed',
      stage: snapshot.stageIndex,
      greenWeight: 0,
      actor,
      message: proxy.message,
    });
  const refused = tokenRefusedProblem(plan, proxies);
  if (refused !== undefined)
    throw new UsageError(
      refused
        .replace('run bluegreen rollback again', 'run bluegreen rollback --force-blue again')
        .replace(/; no hook was run and the rollout is still marked unfinished$/, ''),
    );
  const told = proxies.filter((proxy) => proxy.told).length;
  journal.appendEvent({
    at: now(),
    type: 'warning',
    stage: snapshot.stageIndex,
    greenWeight: 0,
    actor,
    message: `--force-blue after the rollout ended: ${told} of ${proxies.length} proxies put on blue by hand; the recorded outcome (${ended}) is unchanged`,
  });
  const said = proxies.map((proxy) => proxy.message).join('; ');
  const unrecorded =
    journal.unrecorded === undefined
      ? ''
      : `; but the journal could not note this (${journal.unrecorded}): make ${store.dir} writable and run bluegreen rollback --force-blue again`;
  if (told < proxies.length)
    throw new CliError(`${said}; not every proxy is on blue (the recorded outcome is unchanged): run it again once they answer${unrecorded}`, EXIT.preflight);
  // On blue, not recorded: the same exit as a plain rollback's on a folder it cannot write.
  if (unrecorded !== '') throw new CliError(`${said}; the recorded outcome (${ended}) is unchanged${unrecorded}`, EXIT.orphaned);
  return `${said}; the recorded outcome (${ended}) is unchanged`;
}
