// What bench/verdicts.js counts of green at a rollback: its requests and failures sent up to the rollback. Apart
// from the benchmark so it can be tested on known requests (test/bench).

/**
 * Green's requests and failures sent up to `at`: `total` counts every green send so far, and the requests sent
 * after `at` are all in `pending` (answer() puts back every request answering after a streak). A streak
 * (consecutive_errors) is found at the look after it and rolls back at its answer, as the engine judges at once
 * on each green failure: the requests sent between the two are not the rollback's.
 * @param {{ requests: number, failures: number }} total
 * @param {readonly { green: boolean, failed: boolean, sentAt: number }[]} pending
 * @param {number} at
 */
export function greenSentBy(total, pending, at) {
  let requests = total.requests;
  let failures = total.failures;
  for (const request of pending) {
    if (!request.green || request.sentAt <= at) continue;
    requests--;
    if (request.failed) failures--;
  }
  return { greenRequests: requests, greenFailures: failures };
}
