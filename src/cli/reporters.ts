// The one place that chooses how a rollout is shown: the dashboard in a terminal, lines otherwise.
import { systemClock } from '../engine/clock.js';
import { createLineReporter } from '../report/line.js';
import type { CliContext } from './context.js';
import type { Reporter, ReporterTarget } from './run-rollout.js';
import { describeExit } from './exit-text.js';

export interface ReporterFlags {
  plain?: boolean;
  ci?: boolean;
}

export function isCi(ctx: CliContext, flags: ReporterFlags): boolean {
  return Boolean(flags.ci) || (ctx.env.CI !== undefined && ctx.env.CI !== '' && ctx.env.CI !== 'false' && ctx.env.CI !== '0');
}

export function chooseReporter(ctx: CliContext, flags: ReporterFlags, engine: ReporterTarget): Reporter {
  return lineReporter(ctx, engine);
}

function lineReporter(ctx: CliContext, engine: ReporterTarget): Reporter {
  const write = (line: string) => ctx.stderr.write(`${line}\n`);
  const reporter = createLineReporter({ write, snapshot: () => engine.snapshot(), clock: systemClock });
  const unsubscribe = engine.onEvent(reporter.onEvent);
  return {
    finish: async (outcome) => {
      unsubscribe();
      reporter.stop();
      write(`bluegreen: ${describeExit(outcome.exitCode)}${outcome.reason ? `: ${outcome.reason}` : ''}`);
    },
  };
}
