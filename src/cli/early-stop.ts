// A stop signal before a command's own handlers listen ended the process as Node's default does: exit 130 (143,
// 129) and not a word, a second or more into a start on a busy machine (loading the modules). Until then this says
// what happened and exits with the same code. It imports nothing of the CLI, so the launcher (bin/) can load it first.
import { EXIT } from '../core/exit.js';

const EARLY_SIGNALS = { SIGINT: EXIT.sigint, SIGTERM: EXIT.sigterm, SIGHUP: EXIT.sighup } as const;
type EarlySignal = keyof typeof EARLY_SIGNALS;

export interface EarlyStopOptions {
  /** "before the rollout started": what the signal came before, in the message. */
  before: string;
  write: (text: string) => void;
  exit: (code: number) => void;
  /** process in production. */
  events?: NodeJS.EventEmitter;
}

/**
 * Says "bluegreen: interrupted by SIGINT before the rollout started: nothing changed" and exits on a stop signal,
 * until the returned function is called or a command starts listening for one itself (guardStartup): from then on
 * the command's handlers decide, and these are gone, so they can never end a rollout that has begun.
 */
export function stopEarly(options: EarlyStopOptions): () => void {
  const events = options.events ?? process;
  let disposed = false;
  const handlers = (Object.keys(EARLY_SIGNALS) as EarlySignal[]).map((signal) => {
    const handler = () => {
      // Caught before a hand-over (below), dispatched after: the listener that took over acts on it, else this does.
      if (disposed && events.listenerCount(signal) > 1) return;
      dispose();
      options.write(`bluegreen: interrupted by ${signal} ${options.before}: nothing changed\n`);
      options.exit(EARLY_SIGNALS[signal]);
    };
    return [signal, handler] as const;
  });
  const onNewListener = (event: string | symbol) => {
    if (typeof event === 'string' && Object.hasOwn(EARLY_SIGNALS, event)) dispose();
  };
  function dispose(): void {
    if (disposed) return;
    disposed = true;
    events.off('newListener', onNewListener);
    // Removed on the loop's next turn, not now: Node closes a signal's handle when its last listener goes, dropping a
    // signal it had caught but not yet dispatched (one that came while the main thread was busy loading the CLI),
    // even when the next listener comes a moment later. The rollout then ran on and promoted (hostile32).
    setImmediate(() => {
      for (const [signal, handler] of handlers) events.off(signal, handler);
    });
  }
  for (const [signal, handler] of handlers) events.on(signal, handler);
  events.on('newListener', onNewListener);
  return dispose;
}
