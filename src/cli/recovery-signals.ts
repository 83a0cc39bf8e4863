// A recovery (`bluegreen rollback`, or a rollout putting a dead run's traffic back on blue before it starts) is
// itself the move back to blue: a signal does not stop it halfway. Stopped there, the command exited at once while
// the on_rollback hook it had started ran on in its own process group, unseen, and traffic was wherever the hook
// had got to. So a signal is said once, the recovery finishes (its hook is bounded by its timeout), and the caller
// then ends with the signal's exit code.
import type { InterruptSignal } from '../engine/endings.js';
import { STOP_SIGNALS } from './stop-signals.js';

/** Runs `work` to its end whatever signal comes meanwhile; resolves to its value and the first signal, if any. */
export async function finishDespiteSignals<T>(
  work: () => Promise<T>,
  options: { events: NodeJS.EventEmitter; warn: (message: string) => void; what: string },
): Promise<{ value: T; signal?: InterruptSignal }> {
  let signal: InterruptSignal | undefined;
  const handlers = STOP_SIGNALS.map((name) => {
    const handler = (): void => {
      if (signal !== undefined) return;
      signal = name;
      options.warn(
        `${name}: ${options.what} is under way and finishes first: a signal does not stop the hook that moves traffic back to blue ` +
          '(it runs up to its timeout); kill -9 would leave it running, for the next bluegreen rollback to stop',
      );
    };
    options.events.on(name, handler);
    return [name, handler] as const;
  });
  try {
    const value = await work();
    return signal === undefined ? { value } : { value, signal };
  } finally {
    for (const [name, handler] of handlers) options.events.off(name, handler);
  }
}
