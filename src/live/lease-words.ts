// What returns a proxy that was not told to blue: its lease. One wording for the rollout's ending
// (proxy-actuator.ts) and a dead rollout's recovery (restore.ts).

/**
 * Said in the tense of `now`: the lease may have run out already (a rollback gives up on a silent proxy only
 * once it has, or after a minute of a longer one; a recovery runs any time after the rollout died).
 * `leaseExpiresAt` is the proxy's last lease as the rollout saw it, undefined when it never saw one; `source`, said
 * after the time, is where that lease was read when it is not the rollout's own view of it now.
 */
export function backByLease(leaseExpiresAt: number | undefined, now: number, source = ''): string {
  if (!leaseExpiresAt) return 'its lease runs out and it returns to blue on its own';
  const at = `${new Date(leaseExpiresAt).toISOString()}${source}`;
  return leaseExpiresAt <= now ? `its lease ran out at ${at}: it serves blue on its own` : `its lease runs out at ${at} and it returns to blue on its own`;
}

/**
 * What an ending says of a proxy it could not tell to serve blue, after its subject ("it", "proxy URL"): what is
 * known (it was left to its lease, and when that ends) apart from what failed, which the ending names before it.
 * Whether it runs is not known: a proxy that does not answer may be down, or cut off from the rollout alone.
 */
export function leftToLease(leaseExpiresAt: number | undefined, now: number): string {
  if (!leaseExpiresAt) return 'was left to its lease; once that runs out, if it runs, it serves blue on its own';
  const at = new Date(leaseExpiresAt).toISOString();
  return leaseExpiresAt <= now
    ? `was left to its lease, which ran out at ${at}, so if it runs it serves blue on its own`
    : `was left to its lease, which runs out at ${at}; then, if it runs, it serves blue on its own`;
}
