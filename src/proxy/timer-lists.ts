// Node keeps one list of timers for each duration and drops the list when its last timer is cleared; the next
// timer of that duration makes it again (the list, its place in the timers' priority queue: about 0.6 us of a
// setTimeout and its clear against 0.4 on a live list, session 23). At 1,000 req/s a proxy's requests seldom
// overlap, so each request made and dropped its request timer's list. One unref'd interval a duration keeps each
// list alive while the proxy runs: it fires once a duration, doing nothing.

/** Largest duration Node keeps as given: a longer one becomes 1 ms (and an interval of 1 ms would run all the time). */
const TIMEOUT_MAX = 2 ** 31 - 1;

function nothing(): void {}

/** Keeps the timer lists of `durations` (ms) alive until the returned function is called. */
export function keepTimerLists(durations: Iterable<number>): () => void {
  const keepers: NodeJS.Timeout[] = [];
  for (const ms of new Set(durations)) if (ms >= 1 && ms <= TIMEOUT_MAX) keepers.push(setInterval(nothing, ms).unref());
  return () => {
    for (const keeper of keepers) clearInterval(keeper);
  };
}
