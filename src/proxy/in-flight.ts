// The requests the proxy is serving (chat requests and model lists), and those whose body is still on its way:
// all shown by /healthz and waited for when the proxy drains before it stops; only those served count against
// max_concurrency (a client trickling its body holds a connection, not one of those places: intake.ts).
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Slots } from '../core/slots.js';

/** In slots, not a Set: a churned Set's old tables would promote each answer they held (src/core/slots.ts, retain20). */
export class InFlight {
  private readonly answers = new Slots<ServerResponse>();
  private waiters: (() => void)[] = [];
  /** The connections of streams already under way when the drain began: they went out keep-alive. */
  private readonly kept = new Set<Socket>();
  private keptWaiters: (() => void)[] = [];

  /** Of `size`, the requests whose body is still being read (not served yet). */
  private reading = 0;

  get size(): number {
    return this.answers.size;
  }

  /** The requests served (their body read): what max_concurrency bounds. */
  get serving(): number {
    return this.answers.size - this.reading;
  }

  /** The answer's slot, for leave(). */
  enter(res: ServerResponse): number {
    return this.answers.add(res);
  }

  /** A request whose body is yet to be read: its slot, for bodyRead() then leave(). */
  enterReading(res: ServerResponse): number {
    this.reading++;
    return this.answers.add(res);
  }

  /** Once for each enterReading(), when its body is read (or is not going to be): it is served now, or leaves. */
  bodyRead(): void {
    this.reading--;
  }

  /** Once for each enter(), with the slot it gave. */
  leave(slot: number): void {
    this.answers.remove(slot);
    if (this.answers.size > 0 || this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Answers not begun yet end their connection (`connection: close`), so their clients do not send another request
   * down it while it is being closed. Streams already under way were sent keep-alive (HTTP/1.1 has no way to take
   * that back once the headers are out): their connections are watched, so the drain can wait for them (keptClosed).
   */
  closeConnectionsAfterAnswers(): void {
    for (const res of this.answers.values()) {
      if (!res.headersSent) res.setHeader('connection', 'close');
      else this.keep(res.socket);
    }
  }

  /** How many connections of streams under way at the drain's start are still open. */
  get keptOpen(): number {
    return this.kept.size;
  }

  /** Resolves once every connection of a stream under way at the drain's start has closed (at once when none is open). */
  keptClosed(): Promise<void> {
    if (this.kept.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.keptWaiters.push(resolve));
  }

  private keep(socket: Socket | null): void {
    if (!socket || socket.destroyed || this.kept.has(socket)) return;
    this.kept.add(socket);
    socket.once('close', () => {
      this.kept.delete(socket);
      if (this.kept.size > 0) return;
      const waiters = this.keptWaiters;
      this.keptWaiters = [];
      for (const wake of waiters) wake();
    });
  }

  /** Resolves once nothing is in flight (at once when nothing is). */
  idle(): Promise<void> {
    if (this.answers.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
