// Which of a rollout's recent events a watcher has not printed yet. Told by their place in the list, not by their
// `at`: an event's time is the rollout's wall clock, which NTP or an operator may step back, and every event after
// such a step would have looked older than the last one printed (hidden from `status --watch` for the hour).
import type { RolloutEvent } from '../engine/types.js';

/**
 * The events of `current` after those of `seen` (the list last read): `current` is `seen` with its oldest events
 * dropped and new ones added, so the first shift of `seen` that matches the start of `current` tells where the new ones
 * begin. None matching (more new events than the list keeps): all of `current` is new.
 */
export function newEvents(seen: readonly RolloutEvent[], current: readonly RolloutEvent[]): RolloutEvent[] {
  const keys = (events: readonly RolloutEvent[]) => events.map((event) => JSON.stringify(event));
  const before = keys(seen);
  const now = keys(current);
  for (let shift = 0; shift < before.length; shift++) {
    const kept = before.length - shift;
    if (kept <= now.length && before.slice(shift).every((key, i) => key === now[i])) return current.slice(kept);
  }
  return [...current];
}
