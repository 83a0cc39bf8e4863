// The rollout's dashboard reporter: the engine's snapshots drawn in the terminal, its keys turned into controls.
import { systemClock, type Clock } from '../../core/clock.js';
import type { RolloutView } from '../../engine/types.js';
import type { LiveView } from '../../live/fleet.js';
import { inkRenderer, startDashboard, type RenderFn, type TerminalStreams } from './controller.js';
import type { DashboardCommand } from './keys.js';
import { colorsEnabled } from './theme.js';

/** What the dashboard needs from the engine. */
export type DashboardTarget = RolloutView;

export interface DashboardReporterOptions {
  streams: TerminalStreams;
  env: NodeJS.ProcessEnv;
  engine: DashboardTarget;
  /** A live rollout's proxies and live figures, shown under the checks. */
  live?: () => LiveView;
  /** Who the keys act for, as the journal records it: "alice@host (dashboard)". */
  actor: string;
  /** Ctrl-C: raw mode turns it into a key, so the dashboard hands it to the rollout's SIGINT path. */
  interrupt: () => void;
  /** A drawing failure; the rollout carries on without the dashboard. */
  onError?: (error: unknown) => void;
  clock?: Clock;
  render?: RenderFn;
  /** " --state-dir DIR" for the commands the footer suggests ("" for the default folder). */
  stateDirFlag?: string;
}

export function terminalSize(stdout: TerminalStreams['stdout']): { columns: number; rows: number } {
  return { columns: stdout.columns || 80, rows: stdout.rows || 24 };
}

export function createDashboardReporter(options: DashboardReporterOptions): { finish(outcome: { exitCode: number; reason?: string }): Promise<void> } {
  const { engine, actor, streams } = options;
  const run: Record<DashboardCommand, () => void> = {
    pause: () => engine.pause(actor),
    resume: () => engine.resume(actor),
    promote: () => engine.promote(actor),
    abort: () => engine.abort(actor),
    interrupt: () => options.interrupt(),
    quit: () => undefined,
  };
  const dashboard = startDashboard({
    mode: 'control',
    read: () => engine.snapshot(),
    ...(options.live && { live: options.live }),
    onCommand: (command) => run[command](),
    size: () => terminalSize(streams.stdout),
    colors: colorsEnabled(options.env),
    keysEnabled: Boolean(streams.stdin.isTTY),
    clock: options.clock ?? systemClock,
    render: options.render ?? inkRenderer(streams),
    onError: options.onError,
    stateDirFlag: options.stateDirFlag,
  });
  // Events only mark the frame as due: the next draw happens on the dashboard's timer, off the engine's stack.
  const unsubscribe = engine.onEvent(() => dashboard.refresh());
  const onResize = () => dashboard.refresh();
  streams.stdout.on('resize', onResize);
  return {
    async finish(outcome) {
      unsubscribe();
      streams.stdout.off('resize', onResize);
      await dashboard.finish({ exitCode: outcome.exitCode, reason: outcome.reason });
    },
  };
}
