// `bluegreen rollout`'s command line; the rollout itself (commands/rollout.ts) loads when the command runs.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { MAX_SEED, parseStateDirOption, pathOption } from '../options.js';
import { stopEarly } from '../early-stop.js';

export interface RolloutFlags {
  stateDir?: string;
  seed?: string;
  plain?: boolean;
  ci?: boolean;
  dryRun?: boolean;
  reportJson?: string;
  junit?: string;
  resume?: boolean;
  fromBlue?: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('rollout')
    .description('run a staged rollout from blue to green; exit 0 promoted, 10 rolled back (see exit codes)')
    .argument('<plan>', 'the rollout plan (YAML)')
    .option('--state-dir <dir>', 'where state.json, events.jsonl and the lock live (default .bluegreen, or $BLUEGREEN_STATE_DIR)', parseStateDirOption)
    .option('--seed <n>', `seed for the traffic split and sources, 0 to ${MAX_SEED}, to reproduce a run`)
    .option('--plain', 'print lines instead of the dashboard, even in a terminal')
    .option('--ci', 'CI mode: plain lines (never coloured), no prompts (also when $CI is set)')
    .option('--dry-run', 'validate, preflight and print the schedule; send no traffic (exit 0, or 2, 3 or 5 where the real run would stop before traffic)')
    .option('--report-json <file>', 'write the outcome as JSON when the rollout ends (docs/reports.md)', pathOption('--report-json'))
    .option('--junit <file>', 'write a JUnit report: a test case per stage and per threshold check', pathOption('--junit'))
    .option('--resume', "continue the state folder's dead rollout of this same plan from its saved stage (on_stage runs again)")
    .option(
      '--from-blue',
      'a live plan whose green is already promoted on its proxies: roll out again from stage 1 (without it the rollout moves nothing and exits 0)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ bluegreen rollout rollouts/demo.yaml\n  $ bluegreen rollout plan.yaml --dry-run\n  $ bluegreen rollout plan.yaml --ci --report-json r.json --junit r.xml\n',
    )
    .action(async (file: string, flags: RolloutFlags) => {
      // The rollout's modules take a second or more to load: a signal meanwhile is said, until the rollout's own
      // handlers listen (guardStartup), which ends these. Not for a caller's own signal source (tests).
      const early =
        ctx.signals === undefined
          ? stopEarly({ before: 'before the rollout started', write: (text) => ctx.stderr.write(text), exit: (code) => process.exit(code) })
          : undefined;
      try {
        const { rollout } = await import('../commands/rollout.js');
        await rollout(file, flags, ctx);
      } finally {
        early?.();
      }
    });
}
