// Every way the process can be told to stop during a rollout, turned into an ending on blue: signals, the
// launcher going away (launcher.ts), and errors nothing caught (a bug: exit 1, still on blue, state saved).
import type { LauncherWatch } from './launcher.js';

export interface Stoppable {
  interrupt(signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP', cause?: string): void;
  fail(error: unknown): void;
}

export interface StopSignalOptions {
  /** process in production; tests pass an emitter of their own. */
  events: NodeJS.EventEmitter;
  /** Started once the engine exists; undefined where no launcher is watched (tests in-process). */
  watchLauncher?: (onEnd: (signal: 'SIGINT' | 'SIGTERM', cause: string) => void) => LauncherWatch;
  warn: (message: string) => void;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Routes stop requests to the engine until the returned function is called. */
export function routeStopSignals(engine: Stoppable, options: StopSignalOptions): () => void {
  const { events } = options;
  let signalled = false;
  const handlers = SIGNALS.map(
    (signal) =>
      [
        signal,
        () => {
          signalled = true;
          engine.interrupt(signal);
        },
      ] as const,
  );
  for (const [signal, handler] of handlers) events.on(signal, handler);
  const onCrash = (error: unknown) => {
    options.warn(`internal error (a bug, please report it): ${error instanceof Error ? error.message : String(error)}; rolling back to blue`);
    engine.fail(error);
  };
  events.on('uncaughtException', onCrash);
  events.on('unhandledRejection', onCrash);
  // A launcher that is gone or was interrupted counts once; a real signal that came first wins (the engine ignores the later one).
  // (Ctrl-C reaches both this process and npm's shell: the shell's wake-up must not count as a second Ctrl-C.)
  const launcher = options.watchLauncher?.((signal, cause) => {
    if (!signalled) engine.interrupt(signal, cause);
  });
  return () => {
    launcher?.stop();
    for (const [signal, handler] of handlers) events.off(signal, handler);
    events.off('uncaughtException', onCrash);
    events.off('unhandledRejection', onCrash);
  };
}
