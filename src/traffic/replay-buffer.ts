// The bounded buffer between a sampled file's reader and the scheduler: the reader waits for room when it is full
// and is let go once the consumer has taken it down to half.
import type { ChatRequest } from '../upstream/types.js';

export class ReplayBuffer {
  // A queue with a moving head: shift() on a large array would copy it on every request.
  private items: (ChatRequest | undefined)[] = [];
  private head = 0;
  private readonly refillAt: number;
  private wakeReader: (() => void) | undefined;

  constructor(readonly capacity: number) {
    this.refillAt = Math.floor(capacity / 2);
  }

  size(): number {
    return this.items.length - this.head;
  }

  full(): boolean {
    return this.size() >= this.capacity;
  }

  push(request: ChatRequest): void {
    this.items.push(request);
  }

  /** The oldest request, or undefined when empty; lets a waiting reader go once half the room is free. */
  shift(): ChatRequest | undefined {
    if (this.head >= this.items.length) return undefined;
    const request = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head >= this.capacity) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.size() <= this.refillAt) this.releaseReader();
    return request;
  }

  /** Resolves once shift() has taken the buffer down to half, or clear() is called. */
  room(): Promise<void> {
    return new Promise<void>((resolve) => (this.wakeReader = resolve));
  }

  /** Drops every request and lets a waiting reader go (to see that the source is closed). */
  clear(): void {
    this.releaseReader();
    this.items = [];
    this.head = 0;
  }

  private releaseReader(): void {
    const wake = this.wakeReader;
    this.wakeReader = undefined;
    wake?.();
  }
}
