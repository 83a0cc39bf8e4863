// Where the engine's events go: the journal, the listeners (reporters), and a short list for the snapshot.
import type { RolloutEvent } from './types.js';
import { errorText } from '../core/errors.js';

export const RECENT_EVENTS = 30;

export class EventLog {
  private readonly recentEvents: RolloutEvent[] = [];
  private readonly listeners = new Set<(event: RolloutEvent) => void>();
  /** Journal failures already reported, so a full disk is said once, not at every event. */
  private readonly reported = new Set<string>();

  constructor(
    private readonly append: (event: RolloutEvent) => void,
    /** Where a listener's error goes; by default it is rethrown on its own, for the CLI's uncaught-error handler. */
    private readonly onListenerError: (error: unknown) => void = rethrowLater,
  ) {}

  /**
   * Records the event and tells the listeners. Never throws: a journal that cannot be written (a full disk, a
   * folder gone) must not stop a rollback half-way, so the failure becomes a warning the reporters show.
   */
  publish(event: RolloutEvent): void {
    this.remember(event);
    const failure = this.tryAppend(event);
    this.tell(event);
    if (failure === undefined || this.reported.has(failure)) return;
    this.reported.add(failure);
    const warning: RolloutEvent = {
      at: event.at,
      type: 'warning',
      stage: event.stage,
      greenWeight: event.greenWeight,
      message: `events.jsonl could not be written (${failure}); the rollout goes on, and state.json still records it`,
    };
    this.remember(warning);
    this.tell(warning);
  }

  subscribe(listener: (event: RolloutEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The newest events, oldest first (the snapshot's copy). */
  recent(): RolloutEvent[] {
    return this.recentEvents;
  }

  /** A listener that throws (a reporter's bug) must not stop the engine mid-step, a rollback half done. */
  private tell(event: RolloutEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }

  private remember(event: RolloutEvent): void {
    this.recentEvents.push(event);
    if (this.recentEvents.length > RECENT_EVENTS) this.recentEvents.shift();
  }

  /** The failure's message, or undefined once the event is in the journal. */
  private tryAppend(event: RolloutEvent): string | undefined {
    try {
      this.append(event);
      return undefined;
    } catch (error) {
      return errorText(error);
    }
  }
}

function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}
