// The callers waiting on a sampled source: ready() once, and available() each time its buffer runs dry.
type Settle = { resolve: () => void; reject: (error: Error) => void };

export class SourceWaiters {
  readonly ready: Promise<void>;
  private settleReady: Settle | undefined;
  private waiting: Settle[] = [];

  constructor() {
    this.ready = new Promise<void>((resolve, reject) => (this.settleReady = { resolve, reject }));
    this.ready.catch(() => undefined); // a caller that never awaits ready() must not crash the process
  }

  resolveReady(): void {
    this.settleReady?.resolve();
    this.settleReady = undefined;
  }

  /** Resolves at the next wake(), rejects at rejectAll(). */
  wait(): Promise<void> {
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  wake(): void {
    for (const waiter of this.take()) waiter.resolve();
  }

  /** Rejects ready() (unless it resolved already) and every wait() so far. */
  rejectAll(error: Error): void {
    this.settleReady?.reject(error);
    this.settleReady = undefined;
    for (const waiter of this.take()) waiter.reject(error);
  }

  private take(): Settle[] {
    const woken = this.waiting;
    this.waiting = [];
    return woken;
  }
}
