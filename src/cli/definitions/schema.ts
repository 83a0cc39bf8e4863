// `bluegreen schema`'s command line; zod and the plan's schema (commands/schema.ts) load when the command runs.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('schema')
    .description("print the rollout plan's JSON Schema (for editor completion and checks)")
    .addHelpText(
      'after',
      '\nExample:\n  $ bluegreen schema > bluegreen.schema.json\n  then add "# yaml-language-server: $schema=./bluegreen.schema.json" atop a plan\n',
    )
    .action(async () => {
      const { planJsonSchema } = await import('../commands/schema.js');
      ctx.stdout.write(`${JSON.stringify(planJsonSchema(), null, 2)}\n`);
    });
}
