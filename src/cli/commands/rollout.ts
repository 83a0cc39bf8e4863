// `bluegreen rollout PLAN`: move traffic to green stage by stage, roll back on its own if green goes bad.
import { randomInt } from 'node:crypto';
import type { Command } from 'commander';
import { loadPlan } from '../../plan/load.js';
import { stateDir } from '../../state/index.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { runRollout } from '../run-rollout.js';
import { chooseReporter } from '../reporters.js';

export interface RolloutFlags {
  stateDir?: string;
  seed?: string;
  plain?: boolean;
  ci?: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('rollout')
    .description('run a staged rollout from blue to green; exit 0 promoted, 10 rolled back (see exit codes)')
    .argument('<plan>', 'the rollout plan (YAML)')
    .option('--state-dir <dir>', 'where state.json, events.jsonl and the lock live (default .bluegreen, or $BLUEGREEN_STATE_DIR)')
    .option('--seed <n>', 'seed for the traffic split and sources, to reproduce a run')
    .option('--plain', 'print lines instead of the dashboard, even in a terminal')
    .option('--ci', 'CI mode: plain lines, no prompts, no colour unless FORCE_COLOR (also when $CI is set)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ bluegreen rollout rollouts/demo.yaml\n  $ bluegreen rollout plan.yaml --plain --seed 42 --state-dir /var/lib/bluegreen\n',
    )
    .action(async (file: string, flags: RolloutFlags) => {
      const plan = loadPlan(file, ctx.cwd);
      const seed = parseSeed(flags.seed);
      ctx.exitCode = await runRollout({
        plan,
        stateDir: stateDir(flags.stateDir, ctx.env, ctx.cwd),
        seed,
        ctx,
        attachReporter: (engine) => chooseReporter(ctx, flags, engine),
      });
    });
}

function parseSeed(text: string | undefined): number {
  if (text === undefined) return randomInt(0, 2 ** 31);
  const seed = Number(text);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a whole number of 0 or more, found "${text}"`);
  return seed;
}
