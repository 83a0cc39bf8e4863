// `bluegreen schema`: the plan's JSON Schema, generated from the zod schema, for editors and linters.
import type { Command } from 'commander';
import { z } from 'zod';
import { planSchema } from '../../plan/schema.js';
import type { CliContext } from '../context.js';

export function planJsonSchema(): Record<string, unknown> {
  // "input" describes what a person writes (durations as strings), not what the parser returns.
  const schema = z.toJSONSchema(planSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, title: 'bluegreen rollout plan' };
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('schema')
    .description("print the rollout plan's JSON Schema (for editor completion and checks)")
    .addHelpText(
      'after',
      '\nExample:\n  $ bluegreen schema > bluegreen.schema.json\n  then add "# yaml-language-server: $schema=./bluegreen.schema.json" atop a plan\n',
    )
    .action(() => {
      ctx.stdout.write(`${JSON.stringify(planJsonSchema(), null, 2)}\n`);
    });
}
