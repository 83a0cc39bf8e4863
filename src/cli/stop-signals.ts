// Every way the process can be told to stop during a rollout, turned into an ending on blue: signals, the
// launcher going away (launcher.ts), its output closing, and errors nothing caught (a bug: exit 1, still on blue,
// state saved).
import { CliError, EXIT } from '../core/exit.js';
import type { LauncherWatch } from './launcher.js';
import { errorText } from '../core/errors.js';
import type { EndingUnderWay } from '../engine/rollout.js';

export interface Stoppable {
  /** Undefined when this starts the ending; what the ending waits for when one was already under way. */
  interrupt(signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP', cause?: string): EndingUnderWay | undefined;
  fail(error: unknown): void;
}

export interface StopSignalOptions {
  /** process in production; tests pass an emitter of their own. */
  events: NodeJS.EventEmitter;
  /** Started once the engine exists; undefined where no launcher is watched (tests in-process). */
  watchLauncher?: (onEnd: (signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP', cause: string) => void) => LauncherWatch;
  warn: (message: string) => void;
  /**
   * The streams the rollout reports on. One failing to write (EPIPE: `… | head -2`, a dead CI log pipe) means nobody
   * is watching the rollout any more: like a hangup, it rolls back to blue (exit 129) rather than promote unseen.
   */
  outputs?: readonly NodeJS.EventEmitter[];
}

/** The signals that stop a rollout (or a recovery: recovery-signals.ts). */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Routes stop requests to the engine until the returned function is called. */
export function routeStopSignals(engine: Stoppable, options: StopSignalOptions): () => void {
  const { events } = options;
  let signalled = false;
  let told = false;
  const handlers = STOP_SIGNALS.map(
    (signal) =>
      [
        signal,
        () => {
          const again = signalled;
          signalled = true;
          const underWay = engine.interrupt(signal);
          // A Ctrl-C that finds the rollout ending (a slow on_rollback, or a promotion it cannot turn back) was met
          // with silence: say, once, what it waits for and what the signal does and does not do.
          if (underWay && !told) {
            told = true;
            options.warn(endingUnderWayText(`${signal}${again ? ' again' : ''}`, underWay));
          }
        },
      ] as const,
  );
  for (const [signal, handler] of handlers) events.on(signal, handler);
  // Ctrl-Z would stop the process with green still taking its share and nothing judging it (a hook-driven
  // rollout never goes back to blue): the rollout stays in the foreground and says how to pause or stop it.
  const onSuspend = () =>
    options.warn(
      'Ctrl-Z ignored: a suspended rollout would leave green taking traffic with nothing watching it; pause it with bluegreen pause, or Ctrl-C to roll back',
    );
  events.on('SIGTSTP', onSuspend);
  const onCrash = (error: unknown) => {
    options.warn(`internal error (a bug, please report it): ${errorText(error)}; rolling back to blue`);
    engine.fail(error);
  };
  events.on('uncaughtException', onCrash);
  events.on('unhandledRejection', onCrash);
  // A launcher that is gone or was interrupted counts once; a real signal that came first wins (the engine ignores the later one).
  // (Ctrl-C reaches both this process and npm's shell: the shell's wake-up must not count as a second Ctrl-C.)
  const launcher = options.watchLauncher?.((signal, cause) => {
    if (!signalled) engine.interrupt(signal, cause);
  });
  // Every later write fails too: only the first failure counts (a second interrupt would cancel the drain).
  const onOutputClosed = () => {
    if (signalled) return;
    signalled = true;
    engine.interrupt('SIGHUP', 'its output closing');
  };
  for (const output of options.outputs ?? []) output.on('error', onOutputClosed);
  return () => {
    launcher?.stop();
    for (const output of options.outputs ?? []) output.off('error', onOutputClosed);
    for (const [signal, handler] of handlers) events.off(signal, handler);
    events.off('SIGTSTP', onSuspend);
    events.off('uncaughtException', onCrash);
    events.off('unhandledRejection', onCrash);
  };
}

const ENDING_DOING: Partial<Record<EndingUnderWay['phase'], string>> = {
  promoted: 'promoting green to 100% (a promotion under way is not turned into a rollback)',
  aborted: 'aborting to blue',
};

/** "SIGINT: the rollout is already ending, promoting green to 100% (...); it waits for the on_promote hook (...), which runs on ..." */
function endingUnderWayText(signal: string, underWay: EndingUnderWay): string {
  const doing = ENDING_DOING[underWay.phase] ?? 'rolling back to blue';
  const moves =
    underWay.moving === undefined
      ? 'traffic is already where it leaves it'
      : `it waits for ${underWay.moving}, which a signal does not stop, as it is what moves traffic`;
  return (
    `${signal}: the rollout is already ending, ${doing}; ${moves}. ` +
    'Requests in flight are no longer waited for, and another Ctrl-C changes nothing more; kill -9 would leave traffic wherever it is'
  );
}

/**
 * After the rollout ended (its state final: promoted, or rolled back to blue), while its reporter finishes, it closes
 * and writes its reports: a stop signal has nothing left to stop. Once the rollout's own handlers are gone
 * (routeStopSignals, removed as it closes) one would kill the process with 143 "rolled back to blue" after a
 * promotion; held here, it is said once and the exit code stays the rollout's (`ended`: "promoted, exit 0").
 * Listens until the returned function resolves: a signal caught during the synchronous report writing is dispatched
 * at the event loop's next poll, so the listener stays two turns more (immediate, poll, immediate); removed at once,
 * it took the signal's handle with it and the signal went unsaid. The CLI process keeps the listeners to its exit, its
 * output flushed first (context.ts exitsAfterMain): let go as main() returned, a signal while stdout drained exited 143.
 * Then a signal exits at once with the rollout's code (`exit`): a reader that stopped reading must not leave the
 * process deaf to stop signals until a SIGKILL.
 */
export function holdSignalsAfterEnd(events: NodeJS.EventEmitter, ended: string, warn: (message: string) => void): (exit?: () => void) => Promise<void> {
  let told = false;
  let exitNow: (() => void) | undefined;
  const handlers = STOP_SIGNALS.map((signal) => {
    const handler = (): void => {
      // The rollout's handlers still listen (its reporter finishing): they answer it.
      if (events.listenerCount(signal) > 1) return;
      if (!told) warn(`${signal} after the rollout ended (${ended}): nothing is left to stop; its reports are written and the exit code stays the rollout's`);
      told = true;
      exitNow?.();
    };
    events.on(signal, handler);
    return [signal, handler] as const;
  });
  // `exit`: the listeners are kept (the turns still waited for, so a signal caught meanwhile is said) and a signal from
  // then on exits with it; without, they go.
  return async (exit) => {
    for (let turn = 0; turn < 2; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    if (exit) exitNow = exit;
    else for (const [signal, handler] of handlers) events.off(signal, handler);
  };
}

/** The exit code each stop signal ends a command with. */
export const SIGNAL_EXIT = { SIGINT: EXIT.sigint, SIGTERM: EXIT.sigterm, SIGHUP: EXIT.sighup } as const;

/**
 * Before the engine exists (lock, endpoints, preflight, traffic files), a signal stops the start-up: nothing has
 * moved traffic yet, so the rollout does not start, the lock is released and the exit code names the signal. So
 * does an output failing to write (EPIPE: its reader gone), as a hangup: nobody would watch the rollout.
 * `step` races each awaited step against the signal, so a preflight waiting on a silent upstream stops at once;
 * `started` throws what came after the last step, so nothing that came during the start-up is lost. `dispose` comes
 * after the rollout's own handlers listen (routeStopSignals), never before: with no listener in between, Node closes
 * the signal's handle and drops a signal it caught but had not dispatched yet (early-stop.ts).
 */
export function guardStartup(
  events: NodeJS.EventEmitter,
  outputs: readonly NodeJS.EventEmitter[] = [],
): { step<T>(work: Promise<T>): Promise<T>; started(): void; dispose(): void } {
  let stop: ((error: CliError) => void) | undefined;
  let stopped: CliError | undefined;
  const stopWith = (error: CliError): void => {
    stopped ??= error;
    stop?.(stopped);
  };
  const handlers = STOP_SIGNALS.map((signal) => {
    const handler = (): void =>
      stopWith(new CliError(`interrupted by ${signal} while starting: no traffic was moved and the rollout did not start`, SIGNAL_EXIT[signal]));
    events.on(signal, handler);
    return [signal, handler] as const;
  });
  const onOutputClosed = (): void =>
    stopWith(
      new CliError('its output closed while starting (nobody would watch the rollout): no traffic was moved and the rollout did not start', EXIT.sighup),
    );
  for (const output of outputs) output.on('error', onOutputClosed);
  const dispose = (): void => {
    for (const [signal, handler] of handlers) events.off(signal, handler);
    for (const output of outputs) output.off('error', onOutputClosed);
  };
  return {
    step<T>(work: Promise<T>): Promise<T> {
      if (stopped) return Promise.reject(stopped);
      // Settled by the work or by a signal, whichever comes first. (A race against a promise only a signal settles
      // left one pending for good at each step.)
      return new Promise<T>((resolve, reject) => {
        stop = reject;
        work.then(resolve, reject).finally(() => {
          if (stop === reject) stop = undefined;
        });
      });
    },
    started() {
      if (stopped) throw stopped;
    },
    dispose,
  };
}
