// `bluegreen pause|resume|promote|abort`: steer the running rollout from another terminal.
import os from 'node:os';
import type { Command } from 'commander';
import {
  controlTargetCheck,
  describeHookInFlight,
  orphanMessage,
  readHookInFlight,
  rolloutStanding,
  stateDir,
  StateStore,
  writeControl,
  type ControlAction,
} from '../../state/index.js';
import { CliError, EXIT } from '../../core/exit.js';
import { FINAL_PHASES, type RolloutSnapshot } from '../../engine/types.js';
import type { CliContext } from '../context.js';
import { userName } from '../operator.js';
import { parseStateDirOption } from '../options.js';

const ACTIONS: { action: ControlAction; description: string }[] = [
  { action: 'pause', description: 'pause the running rollout: traffic goes on at the current weight, the stage clock stops' },
  { action: 'resume', description: 'resume a paused rollout' },
  { action: 'promote', description: 'skip the remaining stages: green to 100% and finish (exit 0)' },
  { action: 'abort', description: 'roll back to blue and stop (the rollout exits 4)' },
];

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

export function register(program: Command, ctx: CliContext): void {
  for (const { action, description } of ACTIONS) {
    program
      .command(action)
      .description(description)
      .option('--state-dir <dir>', "the running rollout's state folder (default .bluegreen, or $BLUEGREEN_STATE_DIR)", parseStateDirOption)
      .addHelpText('after', `\nExample:\n  $ bluegreen ${action} --state-dir .bluegreen\n`)
      .action((flags: { stateDir?: string }) => {
        const dir = stateDir(flags.stateDir, ctx.env, ctx.cwd);
        const standing = rolloutStanding(new StateStore(dir));
        if (standing.kind === 'orphaned') throw new CliError(orphanMessage(standing.snapshot, dir), EXIT.orphaned);
        if (standing.kind === 'finished') {
          const { snapshot } = standing;
          const when = snapshot.endedAt !== undefined ? ` at ${new Date(snapshot.endedAt).toISOString()}` : '';
          throw new CliError(
            `no rollout is running in ${dir}: the last one (plan "${snapshot.plan.name}") has finished (${snapshot.phase.replace('_', ' ')}${when}); see bluegreen status`,
            EXIT.usage,
          );
        }
        if (standing.kind === 'running') refuseWhileEnding(dir, standing.snapshot, action);
        const owner = controlTargetCheck(dir);
        writeControl(dir, { action, user: userName(ctx.env), host: os.hostname(), pid: process.pid, at: Date.now() });
        ctx.stdout.write(`${action} requested for rollout "${owner.planName}" (pid ${owner.pid}); it acts within a second (see: bluegreen status)\n`);
      });
  }
}
