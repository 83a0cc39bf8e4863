// `bluegreen sim`'s command line; the simulator (commands/sim.ts) loads when the command runs.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { afterHelp } from '../help-text.js';
import { MAX_SEED, pathOption } from '../options.js';
import { MAX_PORT } from '../../core/port.js';

/** Used when neither --port nor the config names one. */
export const DEFAULT_SIM_PORT = 8787;

export interface SimOptions {
  port?: string;
  config?: string;
  seed?: string;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('sim')
    .description('run the simulated OpenAI/Anthropic-compatible upstream on 127.0.0.1 until interrupted')
    .option('--port <n>', `port to listen on, 0 to ${MAX_PORT} (0 picks a free one; default: the config's port or ${DEFAULT_SIM_PORT})`)
    .option('--config <file>', 'YAML file whose top level is a simulate block (seed, port, models, default)', pathOption('--config'))
    .option('--seed <n>', `seed for the fault and latency draws, 0 to ${MAX_SEED} (default: the config's seed or 1)`)
    .addHelpText(
      'after',
      afterHelp(
        `
Without --config it serves gpt-4o, gpt-4.1 and claude-sonnet-4 (small error and 429 rates) and answers any
other model name with a healthy default profile. Any API key is accepted; none is needed.

Examples:
  $ bluegreen sim --port 8787
  $ bluegreen sim --config sim.yaml --seed 42
  $ curl -s http://127.0.0.1:8787/v1/chat/completions -H 'content-type: application/json' \\
      -d '{"model":"gpt-4o","messages":[{"role":"user","content":"hello"}]}'
`,
      ),
    )
    .action(async (options: SimOptions) => {
      // Listened for before the simulator loads: a Ctrl-C meanwhile stops it as soon as it has started.
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const { runSim } = await import('../commands/sim.js');
        await runSim(options, ctx, stop.signal);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
