// `bluegreen validate`'s command line; the checks (commands/validate.ts) load when the command runs.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { parseStateDirOption } from '../options.js';

export interface ValidateFlags {
  json?: boolean;
  checkUpstream?: boolean;
  stateDir?: string;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('validate')
    .description('check a rollout plan and print what it will do; exit 0 if valid, 2 if not')
    .argument('<plan>', 'the rollout plan (YAML)')
    .option('--json', 'print the summary (or the errors) as JSON')
    .option(
      '--check-upstream',
      'also check what the rollout checks before traffic (exit 3 if not): the upstream (key present, models list answers, key accepted); for a live plan, its proxies (each answers, accepts the admin token, serves this plan), and the upstream only when the rollout sends requests itself (generated traffic, a health check)',
    )
    .option(
      '--state-dir <dir>',
      "with --check-upstream, where a live plan's running proxy is found (its proxy.json) when the plan lists no admin_urls",
      parseStateDirOption,
    )
    .addHelpText('after', '\nExamples:\n  $ bluegreen validate rollouts/demo.yaml\n  $ bluegreen validate plan.yaml --check-upstream --json\n')
    .action(async (file: string, flags: ValidateFlags) => {
      const { validate } = await import('../commands/validate.js');
      await validate(file, flags, ctx);
    });
}
