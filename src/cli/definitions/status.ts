// `bluegreen status`'s command line; the reading (commands/status.ts) loads when the command runs.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { parseStateDirOption, WATCH_INTERVAL_MS } from '../options.js';

export interface StatusFlags {
  stateDir?: string;
  json?: boolean;
  watch?: boolean;
  interval?: string;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('status')
    .description('show where the rollout in the state folder stands (exit 5 when its process died unfinished); --watch follows it and exits with its exit code')
    .option('--state-dir <dir>', 'the rollout state folder (default .bluegreen, or $BLUEGREEN_STATE_DIR)', parseStateDirOption)
    .option('--json', 'print the state as JSON (with "ownerAlive" and "ownerStopped")')
    .option('--watch', 'follow the rollout until it ends, then exit with its exit code')
    .option(
      '--interval <ms>',
      `with --watch: how often it rereads the state, ${WATCH_INTERVAL_MS.min} to ${WATCH_INTERVAL_MS.max} ms (default ${WATCH_INTERVAL_MS.default})`,
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ bluegreen status\n  $ bluegreen status --json | jq .phase\n  $ bluegreen status --watch --state-dir /var/lib/bluegreen   # a CI step can wait on this\n',
    )
    .action(async (flags: StatusFlags) => {
      const { status } = await import('../commands/status.js');
      await status(flags, ctx);
    });
}
