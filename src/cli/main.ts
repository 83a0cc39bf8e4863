// The commander program. Each command lives in commands/<name>.ts and registers itself here.
import { Command, CommanderError } from 'commander';
import { PlanError } from '../plan/errors.js';
import { TrafficError } from '../traffic/index.js';
import { CliError, EXIT, exitCodesHelp } from '../core/exit.js';
import { processContext, type CliContext } from './context.js';
import { VERSION } from './version.js';

type Register = (program: Command, ctx: CliContext) => void;

async function commandModules(): Promise<Register[]> {
  const modules = await Promise.all([
    import('./commands/rollout.js'),
    import('./commands/status.js'),
    import('./commands/validate.js'),
    import('./commands/schema.js'),
    import('./commands/sim.js'),
    import('./commands/control.js'),
  ]);
  return modules.map((m) => m.register);
}

export function buildProgram(ctx: CliContext, registers: Register[]): Command {
  const program = new Command('bluegreen')
    .description('Progressive blue/green rollouts for LLM model upgrades: stage traffic to a new model, watch it, roll back on its own.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.stdout.write(text),
      writeErr: (text) => ctx.stderr.write(text),
    });
  program.addHelpText(
    'after',
    `
Examples:
  $ bluegreen validate rollouts/demo.yaml
  $ bluegreen rollout rollouts/demo.yaml
  $ bluegreen status --watch

Exit codes: ${exitCodesHelp()}.`,
  );
  for (const register of registers) register(program, ctx);
  return program;
}

/** Runs the CLI and resolves to the process exit code; never throws for expected failures. */
export async function main(argv: string[], ctx: CliContext = processContext()): Promise<number> {
  const program = buildProgram(ctx, await commandModules());
  try {
    await program.parseAsync(argv);
    return ctx.exitCode;
  } catch (error) {
    return exitCodeFor(error, ctx);
  }
}

function exitCodeFor(error: unknown, ctx: CliContext): number {
  if (error instanceof CommanderError) {
    // Help and version exit 0; commander already printed the message for usage errors.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
    return EXIT.usage;
  }
  if (error instanceof PlanError) {
    ctx.stderr.write(`${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof TrafficError) {
    // A prompts or sampled-traffic file the plan names is unusable: the plan's input is wrong.
    ctx.stderr.write(`bluegreen: ${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof CliError) {
    ctx.stderr.write(`bluegreen: ${error.message}\n`);
    return error.exitCode;
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  ctx.stderr.write(`bluegreen: internal error (a bug, please report it): ${error instanceof Error ? error.message : String(error)}\n`);
  if (ctx.env.BLUEGREEN_DEBUG) ctx.stderr.write(`${detail}\n`);
  return EXIT.internal;
}
