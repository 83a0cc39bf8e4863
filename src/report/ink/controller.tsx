// Drives the dashboard: redraws from a snapshot source on a timer at a bounded rate, turns key presses into
// commands, and draws the last frame. Owns no rollout logic; the snapshot source and the commands are injected.
import type { ReactElement } from 'react';
import { render as inkRender } from 'ink';
import { steadyNow, type Clock, type TimerHandle } from '../../core/clock.js';
import type { RolloutSnapshot } from '../../engine/types.js';
import { DashboardApp } from './components/DashboardApp.js';
import { handleKey, type DashboardCommand, type DashboardMode, type KeyPress, type KeyState } from './keys.js';
import { buildDashboardView, type ViewOptions } from './view-model.js';
import { isFinalPhase } from './header-lines.js';
import type { LiveView } from '../../live/fleet.js';

export interface RenderHandle {
  rerender(node: ReactElement): void;
  unmount(): void;
  waitUntilExit(): Promise<unknown>;
}

export type RenderFn = (node: ReactElement) => RenderHandle;

export interface TerminalStreams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  stderr: NodeJS.WritableStream;
}

/** Ink on the given streams. Ctrl-C is left to the dashboard (the rollout turns it into its SIGINT path). */
export function inkRenderer(streams: TerminalStreams, maxFps = 10): RenderFn {
  return (node) => {
    // A key pressed before raw mode is on was echoed by the terminal ("p", "^C"): a first frame drawn after it began
    // off column 0, its full-width top line wrapped, and that line stayed above every later frame. Start on a clean line.
    streams.stdout.write(CLEAR_LINE);
    return inkRender(node, {
      stdout: streams.stdout as NodeJS.WriteStream,
      stdin: streams.stdin as NodeJS.ReadStream,
      stderr: streams.stderr as NodeJS.WriteStream,
      exitOnCtrlC: false,
      patchConsole: false,
      maxFps,
    });
  };
}

/** Back to column 0, and the line erased. */
export const CLEAR_LINE = '\r\x1b[2K';

export interface DashboardControllerOptions {
  mode: DashboardMode;
  /** The snapshot to draw; called at most once per frame, never from the request path. */
  read: () => RolloutSnapshot;
  /** A live rollout's proxies and live figures. */
  live?: () => LiveView | undefined;
  onCommand: (command: DashboardCommand) => void;
  size: () => { columns: number; rows: number };
  colors: boolean;
  /** Whether keys are read at all (stdin must be a terminal for raw mode). */
  keysEnabled: boolean;
  clock: Clock;
  render: RenderFn;
  /** Redraw period when nothing happens (default 250 ms: 4 fps). */
  idleMs?: number;
  /** Shortest time between two frames, events or not (default 200 ms: never above 5 fps). */
  minGapMs?: number;
  watch?: () => ViewOptions['watch'];
  stateDirFlag?: string;
  /** A drawing failure: the dashboard stops, the rollout does not. */
  onError?: (error: unknown) => void;
}

export interface DashboardController {
  /** Something changed (an event, a resize): draw soon, within the rate bound. */
  refresh(): void;
  /** Draws the last frame (with the outcome when given) and unmounts. */
  finish(final?: ViewOptions['final']): Promise<void>;
}

/** One dashboard's state: what it draws with, the keys' state, and when it drew last and draws next. */
interface Dashboard {
  readonly options: DashboardControllerOptions;
  readonly idleMs: number;
  readonly minGapMs: number;
  /** One handler for every frame: a new one each frame would have Ink's input hook subscribe again. */
  readonly onKey: (press: KeyPress) => void;
  handle: RenderHandle | undefined;
  keys: KeyState;
  final: ViewOptions['final'];
  stopped: boolean;
  lastDraw: number;
  timer: { handle: TimerHandle; at: number } | undefined;
}

export function startDashboard(options: DashboardControllerOptions): DashboardController {
  const dashboard: Dashboard = {
    options,
    idleMs: options.idleMs ?? 250,
    minGapMs: options.minGapMs ?? 200,
    onKey: (press) => onKey(dashboard, press),
    handle: undefined,
    keys: {},
    final: undefined,
    stopped: false,
    lastDraw: Number.NEGATIVE_INFINITY,
    timer: undefined,
  };
  draw(dashboard);
  return {
    refresh: () => refresh(dashboard),
    finish: (outcome) => finish(dashboard, outcome),
  };
}

function onKey(dashboard: Dashboard, press: KeyPress): void {
  if (dashboard.stopped) return;
  const { options } = dashboard;
  const snapshot = options.read();
  const result = handleKey(dashboard.keys, press, options.mode, steadyNow(options.clock), endingBegun(snapshot), snapshot.phase);
  dashboard.keys = result.state;
  if (result.command) options.onCommand(result.command);
  refresh(dashboard);
}

function element(dashboard: Dashboard): ReactElement {
  const { options } = dashboard;
  const view = buildDashboardView(options.read(), {
    now: options.clock.now(),
    steadyNow: steadyNow(options.clock),
    ...options.size(),
    mode: options.mode,
    keys: dashboard.keys,
    keysEnabled: options.keysEnabled,
    final: dashboard.final,
    watch: options.watch?.(),
    live: options.live?.(),
    stateDirFlag: options.stateDirFlag,
  });
  return <DashboardApp view={view} colors={options.colors} keysActive={options.keysEnabled && !dashboard.stopped} onKey={dashboard.onKey} />;
}

/** Puts a frame on the terminal: the first one mounts. */
function show(dashboard: Dashboard, node: ReactElement): void {
  if (dashboard.handle) dashboard.handle.rerender(node);
  else dashboard.handle = dashboard.options.render(node);
}

function draw(dashboard: Dashboard): void {
  dashboard.timer = undefined;
  if (dashboard.stopped) return;
  try {
    // The throttle's times are steady: on the wall clock, a step back after a frame put the next one an hour away.
    dashboard.lastDraw = steadyNow(dashboard.options.clock);
    show(dashboard, element(dashboard));
  } catch (error) {
    dashboard.stopped = true;
    dashboard.handle?.unmount();
    dashboard.options.onError?.(error);
    return;
  }
  schedule(dashboard, dashboard.idleMs);
}

/** Draws in `delay` ms, unless a frame is due sooner already. */
function schedule(dashboard: Dashboard, delay: number): void {
  const { clock } = dashboard.options;
  const at = steadyNow(clock) + delay;
  if (dashboard.timer && dashboard.timer.at <= at) return;
  dashboard.timer?.handle.cancel();
  dashboard.timer = { handle: clock.setTimer(() => draw(dashboard), delay), at };
}

function refresh(dashboard: Dashboard): void {
  if (!dashboard.stopped) schedule(dashboard, Math.max(0, dashboard.lastDraw + dashboard.minGapMs - steadyNow(dashboard.options.clock)));
}

async function finish(dashboard: Dashboard, outcome: ViewOptions['final']): Promise<void> {
  if (dashboard.stopped) return;
  dashboard.timer?.handle.cancel();
  dashboard.timer = undefined;
  dashboard.final = outcome;
  dashboard.stopped = true;
  try {
    show(dashboard, element(dashboard));
  } catch (error) {
    dashboard.options.onError?.(error);
  }
  if (!dashboard.handle) return;
  dashboard.handle.unmount();
  await dashboard.handle.waitUntilExit();
}

/** The rollout is ending: a final phase, or an ending's reason while a promotion still moves traffic (phase progressing). */
function endingBegun(snapshot: { phase: RolloutSnapshot['phase']; reason?: string }): boolean {
  return isFinalPhase(snapshot.phase) || snapshot.reason !== undefined;
}
