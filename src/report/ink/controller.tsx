// Drives the dashboard: redraws from a snapshot source on a timer at a bounded rate, turns key presses into
// commands, and draws the last frame. Owns no rollout logic; the snapshot source and the commands are injected.
import type { ReactElement } from 'react';
import { render as inkRender } from 'ink';
import type { Clock, TimerHandle } from '../../core/clock.js';
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
  return (node) =>
    inkRender(node, {
      stdout: streams.stdout as NodeJS.WriteStream,
      stdin: streams.stdin as NodeJS.ReadStream,
      stderr: streams.stderr as NodeJS.WriteStream,
      exitOnCtrlC: false,
      patchConsole: false,
      maxFps,
    });
}

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
  /** A drawing failure: the dashboard stops, the rollout does not. */
  onError?: (error: unknown) => void;
}

export interface DashboardController {
  /** Something changed (an event, a resize): draw soon, within the rate bound. */
  refresh(): void;
  /** Draws the last frame (with the outcome when given) and unmounts. */
  finish(final?: ViewOptions['final']): Promise<void>;
}

export function startDashboard(options: DashboardControllerOptions): DashboardController {
  const { clock } = options;
  const idleMs = options.idleMs ?? 250;
  const minGapMs = options.minGapMs ?? 200;
  let handle: RenderHandle | undefined;
  let keys: KeyState = {};
  let final: ViewOptions['final'];
  let stopped = false;
  let lastDraw = Number.NEGATIVE_INFINITY;
  let timer: { handle: TimerHandle; at: number } | undefined;

  const onKey = (press: KeyPress) => {
    if (stopped) return;
    const result = handleKey(keys, press, options.mode, clock.now(), endingBegun(options.read()));
    keys = result.state;
    if (result.command) options.onCommand(result.command);
    refresh();
  };

  const element = (): ReactElement => {
    const now = clock.now();
    const view = buildDashboardView(options.read(), {
      now,
      ...options.size(),
      mode: options.mode,
      keys,
      keysEnabled: options.keysEnabled,
      final,
      watch: options.watch?.(),
      live: options.live?.(),
    });
    return <DashboardApp view={view} colors={options.colors} keysActive={options.keysEnabled && !stopped} onKey={onKey} />;
  };

  const draw = () => {
    timer = undefined;
    if (stopped) return;
    try {
      lastDraw = clock.now();
      const node = element();
      if (handle) handle.rerender(node);
      else handle = options.render(node);
    } catch (error) {
      stopped = true;
      handle?.unmount();
      options.onError?.(error);
      return;
    }
    schedule(idleMs);
  };

  const schedule = (delay: number) => {
    const at = clock.now() + delay;
    if (timer && timer.at <= at) return;
    timer?.handle.cancel();
    timer = { handle: clock.setTimer(draw, delay), at };
  };

  const refresh = () => {
    if (!stopped) schedule(Math.max(0, lastDraw + minGapMs - clock.now()));
  };

  draw();

  return {
    refresh,
    async finish(outcome) {
      if (stopped) return;
      timer?.handle.cancel();
      timer = undefined;
      final = outcome;
      stopped = true;
      try {
        const node = element();
        if (handle) handle.rerender(node);
        else handle = options.render(node);
      } catch (error) {
        options.onError?.(error);
      }
      if (!handle) return;
      handle.unmount();
      await handle.waitUntilExit();
    },
  };
}

/** The rollout is ending: a final phase, or an ending's reason while a promotion still moves traffic (phase progressing). */
function endingBegun(snapshot: { phase: RolloutSnapshot['phase']; reason?: string }): boolean {
  return isFinalPhase(snapshot.phase) || snapshot.reason !== undefined;
}
