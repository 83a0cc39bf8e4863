// The requests the proxy is serving (chat requests and model lists): counted against max_concurrency, shown by
// /healthz, and waited for when the proxy drains before it stops.
import type { ServerResponse } from 'node:http';

export class InFlight {
  private readonly answers = new Set<ServerResponse>();
  private waiters: (() => void)[] = [];

  get size(): number {
    return this.answers.size;
  }

  enter(res: ServerResponse): void {
    this.answers.add(res);
  }

  leave(res: ServerResponse): void {
    this.answers.delete(res);
    if (this.answers.size > 0 || this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Answers not begun yet end their connection (`connection: close`), so their clients do not send another request
   * down it while it is being closed. Streams already under way were sent keep-alive; nothing can change that now.
   */
  closeConnectionsAfterAnswers(): void {
    for (const res of this.answers) if (!res.headersSent) res.setHeader('connection', 'close');
  }

  /** Resolves once nothing is in flight (at once when nothing is). */
  idle(): Promise<void> {
    if (this.answers.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
