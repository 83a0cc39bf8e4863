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
  const handlers = (Object.keys(EARLY_SIGNALS) as EarlySignal[]).map((signal) => {
    const handler = () => {
      dispose();
      options.write(`bluegreen: interrupted by ${signal} ${options.before}: nothing changed\n`);
      options.exit(EARLY_SIGNALS[signal]);
    };
    return [signal, handler] as const;
  });
  const onNewListener = (event: string | symbol) => {
    if (typeof event === 'string' && event in EARLY_SIGNALS) dispose();
  };
  let disposed = false;
  function dispose(): void {
    if (disposed) return;
    disposed = true;
    events.off('newListener', onNewListener);
    for (const [signal, handler] of handlers) events.off(signal, handler);
  }
  for (const [signal, handler] of handlers) events.on(signal, handler);
  events.on('newListener', onNewListener);
  return dispose;
}
