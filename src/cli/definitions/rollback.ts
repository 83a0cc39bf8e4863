// `bluegreen rollback`'s command line; the recovery (commands/rollback.ts) loads when the command runs.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { parseStateDirOption, pathOption } from '../options.js';
import { afterHelp } from '../help-text.js';

export interface RollbackFlags {
  stateDir?: string;
  plan?: string;
  forceBlue?: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('rollback')
    .description(
      "put a dead rollout back on blue: run its plan's on_rollback hook (or on_stage at 0% when it has none) with the saved stage, journal it, mark it rolled back (safe to run twice)",
    )
    .option('--state-dir <dir>', 'the rollout state folder (default .bluegreen, or $BLUEGREEN_STATE_DIR)', parseStateDirOption)
    .option('--plan <file>', "the plan whose on_rollback to run, if the rollout's own plan file moved", pathOption('--plan'))
    .option(
      '--force-blue',
      'put every proxy of the plan on blue by hand, even one another rollout took (its live stage, which it then rolls back, or its completed promotion) or an operator set; also on a rollout already marked rolled back (its outcome unchanged, the journal notes it)',
    )
    .addHelpText(
      'after',
      afterHelp(
        "\nA live plan's proxies are told to serve blue (the admin token's variable must be set), but for one whose route another rollout set (its live stage, its promotion) or an operator set by hand: that one is left as it is, and said (--force-blue puts it on blue all the same, also once the rollout is marked rolled back). Exit: 0 rolled back (or nothing to do), 2 no state, no plan (a rollout whose state.json is lost needs --plan FILE: its journal holds none), the admin token unset or refused by a proxy (no hook run, still unfinished), or the rollout is still running (stop it with bluegreen abort), or a rollout that ended but whose move back to blue failed has no hook left in its plan to make it again (check traffic by hand), 5 on_rollback (for an abort whose on_abort failed, on_abort) failed, or a proxy that may hold a promotion (the rollout died promoting) did not answer, or the state folder cannot be written (traffic put back on blue, but not recorded) (still unfinished: run it again); --force-blue after the rollout ended: 0 every proxy on blue, 2 a promoted rollout or a plan without proxy.admin, 3 a proxy did not take it, 5 every proxy on blue but the journal could not note it (the state folder cannot be written).\n\nExamples:\n  $ bluegreen status            # exit 5: the rollout's process died\n  $ bluegreen rollback\n",
      ),
    )
    .action(async (flags: RollbackFlags) => {
      const { rollback } = await import('../commands/rollback.js');
      await rollback(flags, ctx);
    });
}
