// The one place that chooses how a rollout is shown: the dashboard in a terminal, lines otherwise.
import { systemClock } from '../core/clock.js';
import { createLineReporter } from '../report/line.js';
import type { createDashboardReporter } from '../report/ink/reporter.js';
import { importDashboard } from './production-ui.js';
import type { CliContext } from './context.js';
import type { Reporter, ReporterHooks, ReporterTarget } from './run-rollout.js';
import { operatorName } from './operator.js';
import { errorText } from '../core/errors.js';
import { stateDirFlag } from '../state/files.js';

export interface ReporterFlags {
  plain?: boolean;
  ci?: boolean;
}

/**
 * The rule Ink itself uses (is-in-ci): CI or CONTINUOUS_INTEGRATION set to anything but "0" or "false", the
 * empty string included. They must agree: in "CI" Ink draws only the last frame, so a dashboard chosen there
 * would show nothing until the rollout ended.
 */
export function isCi(ctx: CliContext, flags: ReporterFlags): boolean {
  const set = (value: string | undefined) => value !== undefined && value !== '0' && value !== 'false';
  return Boolean(flags.ci) || set(ctx.env.CI) || set(ctx.env.CONTINUOUS_INTEGRATION);
}

/** The dashboard needs a terminal that can move its cursor, and is never used in CI or with --plain. */
export function wantsDashboard(ctx: CliContext, flags: ReporterFlags): boolean {
  return Boolean(ctx.stdout.isTTY) && !flags.plain && !isCi(ctx, flags) && ctx.env.TERM !== 'dumb';
}

/** Picks the reporter for one rollout; made by reporterFor, which has loaded the dashboard if it is wanted. */
export type ReporterChoice = (engine: ReporterTarget, hooks: ReporterHooks) => Reporter;

/**
 * The dashboard in a terminal (loaded now, as production builds: see production-ui.ts), lines otherwise. Async so
 * that a rollout that draws no dashboard never loads the UI libraries.
 */
export async function reporterFor(ctx: CliContext, flags: ReporterFlags, stateDir: string): Promise<ReporterChoice> {
  if (!wantsDashboard(ctx, flags)) return (engine) => lineReporter(ctx, engine);
  const { createDashboardReporter } = await importDashboard(ctx.env);
  return (engine, hooks) => dashboardReporter(createDashboardReporter, ctx, { engine, interrupt: hooks.interrupt, stateDir });
}

function dashboardReporter(
  create: typeof createDashboardReporter,
  ctx: CliContext,
  { engine, interrupt, stateDir }: { engine: ReporterTarget; interrupt: () => void; stateDir: string },
): Reporter {
  let fallback: Reporter | undefined;
  // A dashboard failing once it has finished gets no fallback: the lines would follow the closing frame.
  let finished = false;
  const dashboard = create({
    streams: ctx,
    env: ctx.env,
    engine,
    ...(engine.live && { live: engine.live }),
    actor: `${operatorName(ctx.env)} (dashboard)`,
    interrupt,
    // The footer's `bluegreen status` (and the control commands, keys off) must read this rollout's folder.
    stateDirFlag: stateDirFlag(stateDir, ctx.cwd),
    onError: (error) => {
      if (fallback || finished) return;
      const message = errorText(error);
      ctx.stderr.write(`bluegreen: the dashboard failed (${message}); showing plain lines instead\n`);
      fallback = lineReporter(ctx, engine);
    },
  });
  return {
    finish: async (outcome, snapshot) => {
      await dashboard.finish(outcome);
      await fallback?.finish(outcome, snapshot);
      finished = true;
    },
  };
}

function lineReporter(ctx: CliContext, engine: ReporterTarget): Reporter {
  const write = (line: string) => ctx.stderr.write(`${line}\n`);
  const reporter = createLineReporter({ write, snapshot: () => engine.snapshot(), clock: systemClock });
  const unsubscribe = engine.onEvent(reporter.onEvent);
  return {
    finish: (outcome) => {
      unsubscribe();
      reporter.finish(outcome);
      return Promise.resolve();
    },
  };
}
