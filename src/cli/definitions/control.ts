// `bluegreen pause|resume|promote|abort`'s command lines; the request's writing (commands/control.ts) loads when one runs.
import type { Command } from 'commander';
import type { ControlAction } from '../../state/control.js';
import type { CliContext } from '../context.js';
import { parseStateDirOption } from '../options.js';

const ACTIONS: { action: ControlAction; description: string }[] = [
  { action: 'pause', description: 'pause the running rollout: traffic goes on at the current weight, the stage clock stops' },
  { action: 'resume', description: 'resume a paused rollout' },
  { action: 'promote', description: 'skip the remaining stages: green to 100% and finish (exit 0)' },
  { action: 'abort', description: 'roll back to blue and stop (the rollout exits 4)' },
];

export function register(program: Command, ctx: CliContext): void {
  for (const { action, description } of ACTIONS) {
    program
      .command(action)
      .description(description)
      .option('--state-dir <dir>', "the running rollout's state folder (default .bluegreen, or $BLUEGREEN_STATE_DIR)", parseStateDirOption)
      .addHelpText('after', `\nExample:\n  $ bluegreen ${action} --state-dir .bluegreen\n`)
      .action(async (flags: { stateDir?: string }) => {
        const { requestControl } = await import('../commands/control.js');
        requestControl(action, flags, ctx);
      });
  }
}
