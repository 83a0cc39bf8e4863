// Where the engine's events go: the journal, the listeners (reporters), and a short list for the snapshot.
import type { RolloutEvent } from './types.js';

const RECENT_EVENTS = 30;

export class EventLog {
  private readonly recentEvents: RolloutEvent[] = [];
  private readonly listeners = new Set<(event: RolloutEvent) => void>();

  constructor(private readonly append: (event: RolloutEvent) => void) {}

  publish(event: RolloutEvent): void {
    this.recentEvents.push(event);
    if (this.recentEvents.length > RECENT_EVENTS) this.recentEvents.shift();
    this.append(event);
    for (const listener of this.listeners) listener(event);
  }

  subscribe(listener: (event: RolloutEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The newest events, oldest first (the snapshot's copy). */
  recent(): RolloutEvent[] {
    return this.recentEvents;
  }
}
