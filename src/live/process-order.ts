// Which proxy processes answer at one admin URL, told by the results feed each answer names (its epoch: one per
// process, new at each start). One proxy restarting shows its feeds one after another, never an old one again; a
// feed that answers a call sent after another feed answered a call sent after it had answered means two processes
// answer there at once: a load balancer in front of several proxies. A rollout must not take those for one proxy.

/** Feeds kept per URL: a few restarts back is enough to see one come back. */
const FEEDS_KEPT = 16;

interface FeedSeen {
  /** When (this URL's order of calls and answers) the feed first answered. */
  firstAnswered: number;
  /** The latest call it answered, by when that call was sent. */
  lastSent: number;
}

export class ProcessOrder {
  /** Counts each call's sending and each answer, in the order this process saw them. */
  private tick = 0;
  private readonly seen = new Map<string, FeedSeen>();
  private shared?: readonly [string, string];

  /** A call goes out now: its place, to give answered(). */
  sending(): number {
    return ++this.tick;
  }

  /** Feed `epoch` answered the call sent at `sent`. */
  answered(epoch: string, sent: number): void {
    const at = ++this.tick;
    const own = this.seen.get(epoch) ?? { firstAnswered: at, lastSent: sent };
    own.lastSent = Math.max(own.lastSent, sent);
    this.seen.delete(epoch);
    this.seen.set(epoch, own);
    if (this.seen.size > FEEDS_KEPT) this.seen.delete(this.seen.keys().next().value as string);
    if (this.shared) return;
    // Each answered a call sent after the other had answered: each is newer than the other, which no restart makes.
    // Calls under way across a restart do not: the old process's late answer is to a call sent before the new one answered.
    for (const [other, them] of this.seen)
      if (other !== epoch && them.lastSent > own.firstAnswered && own.lastSent > them.firstAnswered) this.shared = [other, epoch];
  }

  /** Two feeds that answered in turn, once seen (it stays said): undefined while one process at a time answers. */
  get twoAnswering(): readonly [string, string] | undefined {
    return this.shared;
  }

  /** The feeds that answered here, oldest first (a restarted process's too). */
  feeds(): string[] {
    return [...this.seen.keys()];
  }
}

/**
 * Why a rollout cannot drive `url`: the same words at the preflight (exit 3) and mid-rollout (its rollback). Each
 * read would reach either process (results read twice, or missed, each change of feed taken for a restart), and
 * each route one of them.
 */
export function sharedUrlMessage(url: string, feeds: readonly [string, string]): string {
  return (
    `${url} answers from more than one proxy process (results feeds ${feeds[0]} and ${feeds[1]} answered in turn: a load balancer in front of several proxies?): ` +
    "its results would be read twice or missed, and each route would reach only one of them; list each proxy's own admin URL in proxy.controller.admin_urls"
  );
}
