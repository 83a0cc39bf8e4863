// `status --watch` in a terminal: the dashboard, read-only, fed from the state file re-read on an interval.
import { systemClock, type Clock } from '../../core/clock.js';
import type { RolloutSnapshot } from '../../engine/types.js';
import { inkRenderer, startDashboard, type RenderFn, type TerminalStreams } from './controller.js';
import { terminalSize } from './reporter.js';
import { readLiveFile } from '../../live/live-file.js';
import { colorsEnabled } from './theme.js';

export interface WatchedState {
  snapshot: RolloutSnapshot;
  owner: { alive: boolean; pid: number };
}

export interface WatchDashboardOptions {
  streams: TerminalStreams;
  env: NodeJS.ProcessEnv;
  stateDir: string;
  intervalMs: number;
  /** Reads the state folder; may throw (the error ends the watch after the dashboard is taken down). */
  read: () => WatchedState;
  isFinished: (snapshot: RolloutSnapshot) => boolean;
  clock?: Clock;
  render?: RenderFn;
  /** " --state-dir DIR" for the commands the footer suggests ("" for the default folder). */
  stateDirFlag?: string;
}

/** How a watch ended: the rollout finished, the operator quit (q, or ctrl-c), or the rollout's process died. */
export type WatchEnd =
  { kind: 'finished'; snapshot: RolloutSnapshot } | { kind: 'quit'; interrupted: boolean } | { kind: 'owner_gone'; snapshot: RolloutSnapshot };

export async function watchDashboard(options: WatchDashboardOptions): Promise<WatchEnd> {
  const clock = options.clock ?? systemClock;
  let latest = options.read();
  let quit: 'quit' | 'interrupt' | undefined;
  let wake: (() => void) | undefined;
  const dashboard = startDashboard({
    mode: 'watch',
    read: () => latest.snapshot,
    watch: () => ({ stateDir: options.stateDir, ownerAlive: latest.owner.alive }),
    // A live rollout's proxies, as it last wrote them (only when the file belongs to this rollout).
    live: () => {
      const live = readLiveFile(options.stateDir);
      return live && live.updatedAt >= latest.snapshot.startedAt ? live : undefined;
    },
    onCommand: (command) => {
      if (command !== 'quit' && command !== 'interrupt') return;
      quit = command;
      wake?.();
    },
    size: () => terminalSize(options.streams.stdout),
    colors: colorsEnabled(options.env),
    keysEnabled: Boolean(options.streams.stdin.isTTY),
    clock,
    render: options.render ?? inkRenderer(options.streams),
    stateDirFlag: options.stateDirFlag,
  });
  const onResize = () => dashboard.refresh();
  options.streams.stdout.on('resize', onResize);
  try {
    for (;;) {
      const { snapshot, owner } = latest;
      if (options.isFinished(snapshot)) {
        await dashboard.finish({ exitCode: snapshot.exitCode ?? 1, reason: snapshot.reason });
        return { kind: 'finished', snapshot };
      }
      if (!owner.alive) {
        await dashboard.finish();
        return { kind: 'owner_gone', snapshot };
      }
      await new Promise<void>((resolve) => {
        const timer = clock.setTimer(() => resolve(), options.intervalMs);
        wake = () => {
          timer.cancel();
          resolve();
        };
      });
      wake = undefined;
      if (quit) {
        await dashboard.finish();
        return { kind: 'quit', interrupted: quit === 'interrupt' };
      }
      latest = options.read();
      dashboard.refresh();
    }
  } catch (error) {
    await dashboard.finish();
    throw error;
  } finally {
    options.streams.stdout.off('resize', onResize);
  }
}
