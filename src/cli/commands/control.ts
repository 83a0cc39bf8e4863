// `bluegreen pause|resume|promote|abort`: steer the running rollout from another terminal.
import os from 'node:os';
import {
  controlTargetCheck,
  describeHookInFlight,
  lockGoneText,
  lostRecord,
  lostRecordAdvice,
  orphanMessage,
  readLock,
  readHookInFlight,
  rolloutStanding,
  stateDir,
  StateStore,
  unrecordedRollout,
  unrecordedAdvice,
  writeControl,
  type ControlAction,
} from '../../state/index.js';
import { CliError, EXIT } from '../../core/exit.js';
import { FINAL_PHASES, type RolloutSnapshot } from '../../engine/types.js';
import type { CliContext } from '../context.js';
import { userName } from '../operator.js';
import { proxiesBackByLeaseNow } from '../../live/lease-back.js';

/**
 * The engine reads no requests once it is ending (its hook or its proxies moving traffic to where the ending
 * leaves it): a request written then would say "requested" and never be taken, so it is refused, saying why.
 */
function refuseWhileEnding(dir: string, snapshot: RolloutSnapshot, action: ControlAction): void {
  const hook = readHookInFlight(dir, snapshot);
  const event = hook && hook.event !== 'stage' ? hook.event : FINAL_PHASES.includes(snapshot.phase) ? snapshot.phase : undefined;
  if (event === undefined) return;
  const ending = event === 'promote' || event === 'promoted' ? 'promoting green to 100%' : 'ending, back on its way to blue';
  const moving = hook && hook.event !== 'stage' ? ` (its ${describeHookInFlight(hook)} is under way)` : '';
  throw new CliError(`the rollout in ${dir} is already ${ending}${moving}: ${action} is not taken now; see bluegreen status`, EXIT.usage);
}

/**
 * A dead rollout known from its journal alone (its state.json lost, or never written): exit 5 and the words `status`
 * uses, not "no longer running" (exit 2), so a script that runs `bluegreen rollback` on 5 does so here too.
 */
function refuseDeadFromJournal(store: StateStore): void {
  const unrecorded = unrecordedRollout(store);
  if (unrecorded !== undefined) {
    if (!unrecorded.starting && unrecorded.finished === undefined) throw new CliError(unrecordedAdvice(unrecorded), EXIT.orphaned);
    return;
  }
  const lost = lostRecord(store);
  if (lost !== undefined && !lost.running) throw new CliError(lostRecordAdvice(lost, store.dir), EXIT.orphaned);
}

/** Runs `bluegreen pause|resume|promote|abort` (their command lines: definitions/control.ts): writes the request. */
export function requestControl(action: ControlAction, flags: { stateDir?: string }, ctx: CliContext): void {
  const dir = stateDir(flags.stateDir, ctx.env, ctx.cwd);
  const store = new StateStore(dir);
  const standing = rolloutStanding(store);
  if (standing.kind === 'none') refuseDeadFromJournal(store);
  if (standing.kind === 'orphaned')
    throw new CliError(orphanMessage(standing.snapshot, dir, { proxiesOnBlue: proxiesBackByLeaseNow(dir, standing.snapshot) }), EXIT.orphaned);
  if (standing.kind === 'finished') {
    const { snapshot } = standing;
    const when = snapshot.endedAt !== undefined ? ` at ${new Date(snapshot.endedAt).toISOString()}` : '';
    throw new CliError(
      `no rollout is running in ${dir}: the last one (plan "${snapshot.plan.name}") has finished (${snapshot.phase.replace('_', ' ')}${when}); see bluegreen status`,
      EXIT.usage,
    );
  }
  if (standing.kind === 'running') refuseWhileEnding(dir, standing.snapshot, action);
  // controlTargetCheck would find no lock and say no rollout runs: say that one runs, and what does reach it.
  if (standing.kind === 'running' && standing.lockGone)
    throw new CliError(
      `${lockGoneText(standing.snapshot, dir)}; ${action} is not sent without the lock naming it: to stop it, kill -TERM ${standing.ownerPid} (it rolls back to blue)`,
      EXIT.usage,
    );
  // The lock names another bluegreen than the recorded rollout (a rollback, a rollout starting): neither reads control/,
  // and a request left there would be taken by the recorded rollout if it still runs without its lock, or by nobody.
  if (standing.kind === 'running' && standing.ownerPid !== standing.snapshot.pid)
    throw new CliError(
      `another bluegreen (pid ${standing.ownerPid}: a rollback, or a rollout starting) holds ${dir}, not the rollout recorded there (pid ${standing.snapshot.pid}); ${action} is not sent: try again once it is done (see bluegreen status --state-dir ${dir})`,
      EXIT.usage,
    );
  // The lock as rolloutStanding read it, once: read again, it could name another process than the one judged above.
  const owner = controlTargetCheck(dir, standing.kind === 'running' ? standing.lock : readLock(dir));
  writeControl(dir, { action, user: userName(ctx.env), host: os.hostname(), pid: process.pid, at: Date.now() });
  ctx.stdout.write(`${action} requested for rollout "${owner.planName}" (pid ${owner.pid}); it acts within a second (see: bluegreen status)\n`);
}
