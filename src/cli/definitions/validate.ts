// `bluegreen validate`'s command line; the checks (commands/validate.ts) load when the command runs.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export interface ValidateFlags {
  json?: boolean;
  checkUpstream?: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('validate')
    .description('check a rollout plan and print what it will do; exit 0 if valid, 2 if not')
    .argument('<plan>', 'the rollout plan (YAML)')
    .option('--json', 'print the summary (or the errors) as JSON')
    .option('--check-upstream', 'also check the upstream: key present, models list answers, key accepted (exit 3 if not)')
    .addHelpText('after', '\nExamples:\n  $ bluegreen validate rollouts/demo.yaml\n  $ bluegreen validate plan.yaml --check-upstream --json\n')
    .action(async (file: string, flags: ValidateFlags) => {
      const { validate } = await import('../commands/validate.js');
      await validate(file, flags, ctx);
    });
}
