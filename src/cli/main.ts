// The commander program. Each command's command line (arguments, options, help) is in definitions/<name>.ts and
// registers itself here; what the command does is in commands/<name>.ts, loaded by its action when it runs, so
// `--version`, `--help` and each command load only what they use.
import { Command, CommanderError } from 'commander';
import { PlanError } from '../plan/errors.js';
import { TrafficError } from '../traffic/errors.js';
import { CliError, EXIT, exitCodesHelp } from '../core/exit.js';
import { enableLinearFallback } from '../core/answer-pattern.js';
import { createRedactor, redactingStream } from '../core/redact.js';
import { processContext, type CliContext } from './context.js';
import { VERSION } from './version.js';
import { errorText } from '../core/errors.js';
import { register as control } from './definitions/control.js';
import { register as proxy } from './definitions/proxy.js';
import { register as rollback } from './definitions/rollback.js';
import { register as rollout } from './definitions/rollout.js';
import { register as schema } from './definitions/schema.js';
import { register as sim } from './definitions/sim.js';
import { register as status } from './definitions/status.js';
import { register as validate } from './definitions/validate.js';
import { afterHelp } from './help-text.js';

type Register = (program: Command, ctx: CliContext) => void;

/** Every command's registration, in the order --help lists them. */
export function commandModules(): Register[] {
  return [rollout, status, validate, schema, sim, control, rollback, proxy];
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
    afterHelp(
      `
Examples:
  $ bluegreen validate rollouts/demo.yaml
  $ bluegreen rollout rollouts/demo.yaml
  $ bluegreen status --watch
  $ bluegreen rollback          # after the rollout's process died (status exits 5)

Exit codes: ${exitCodesHelp()}.`,
    ),
  );
  for (const register of registers) register(program, ctx);
  return program;
}

/** Runs the CLI and resolves to the process exit code; never throws for expected failures. */
export async function main(argv: string[], outer: CliContext = processContext()): Promise<number> {
  // Before anything can run a plan's quality.regex: compiled code run before the flag has no bound (answer-pattern.ts).
  enableLinearFallback();
  // Every byte printed goes through the redactor: commands add the plan's keys to it once they know them.
  const redactor = outer.redactor ?? createRedactor();
  const ctx: CliContext = { ...outer, redactor, stdout: redactingStream(outer.stdout, redactor), stderr: redactingStream(outer.stderr, redactor) };
  const program = buildProgram(ctx, commandModules());
  try {
    await program.parseAsync(argv);
    return ctx.exitCode;
  } catch (error) {
    const json = wantsJson(argv) ? (jsonError(error) ?? jsonUsageError(error, argv)) : undefined;
    if (!json) return exitCodeFor(error, ctx);
    ctx.stdout.write(`${JSON.stringify(json.body, null, 2)}\n`);
    return json.exitCode;
  }
}

/** `--json` on the command line (before any `--`): the caller parses stdout, so failures come as JSON too. */
function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/** An expected failure as one JSON document; undefined for usage errors commander printed and for bugs. */
function jsonError(error: unknown): { body: Record<string, unknown>; exitCode: number } | undefined {
  if (error instanceof PlanError) return { exitCode: EXIT.usage, body: { ok: false, exitCode: EXIT.usage, errors: error.problems } };
  if (error instanceof TrafficError || error instanceof CliError) {
    const exitCode = error instanceof CliError ? error.exitCode : EXIT.usage;
    return { exitCode, body: { ok: false, exitCode, errors: [{ message: error.message }] } };
  }
  return undefined;
}

/**
 * A usage error commander refused and printed (an unknown option, a missing argument) as one JSON document too, so a
 * caller parsing stdout under --json reads why: validate's shape for validate, the others' for the rest.
 */
function jsonUsageError(error: unknown, argv: string[]): { body: Record<string, unknown>; exitCode: number } | undefined {
  if (!(error instanceof CommanderError) || commanderExitCode(error) === 0) return undefined;
  const message = error.code === 'commander.help' ? 'no command given (bluegreen --help lists them)' : error.message.replace(/^error: /, '');
  const errors = [{ message }];
  const command = argv.slice(2).find((arg) => !arg.startsWith('-'));
  return { exitCode: EXIT.usage, body: command === 'validate' ? { valid: false, errors } : { ok: false, exitCode: EXIT.usage, errors } };
}

/** Help asked for and version exit 0; help shown because no command was given is a usage error, as is anything
 * else commander refused (it has already printed the message). */
function commanderExitCode(error: CommanderError): number {
  if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
  if (error.code === 'commander.help') return error.exitCode === 0 ? 0 : EXIT.usage;
  return EXIT.usage;
}

function exitCodeFor(error: unknown, ctx: CliContext): number {
  if (error instanceof CommanderError) return commanderExitCode(error);
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
  ctx.stderr.write(`bluegreen: internal error (a bug, please report it): ${errorText(error)}\n`);
  if (ctx.env.BLUEGREEN_DEBUG) ctx.stderr.write(`${detail}\n`);
  return EXIT.internal;
}
