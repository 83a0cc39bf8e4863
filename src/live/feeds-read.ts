// How far this rollout has recorded each proxy results feed, across its whole fleet: a result a stopped proxy
// handed over (src/proxy/handover.ts) may be served again by its replacement, by a proxy that stopped in turn,
// or by another proxy of the fleet on the same folder; it is judged once, whichever proxy serves it.

/** Past feeds remembered per proxy of the fleet: a few restarts back is all a handover can come from. */
const PAST_FEEDS_PER_PROXY = 16;

/** One proxy's feed as the rollout reads it now. */
export interface FeedPosition {
  epoch?: string;
  cursor?: number;
}

export class FeedsRead {
  /** Feeds no proxy serves any more (a process since restarted), or handed-over results taken: the last seq recorded. */
  private readonly past = new Map<string, number>();
  private readonly current: FeedPosition[] = [];

  /** A proxy whose feed the rollout reads: its cursor counts as read for that feed. */
  follow(position: FeedPosition): void {
    this.current.push(position);
  }

  /** The last result of `epoch` the rollout recorded, by any proxy. */
  readUpTo(epoch: string): number {
    let seq = this.past.get(epoch) ?? 0;
    for (const position of this.current) if (position.epoch === epoch && position.cursor !== undefined) seq = Math.max(seq, position.cursor);
    return seq;
  }

  /** Recorded up to `seq` of `epoch` (never moved back). */
  remember(epoch: string, seq: number): void {
    const known = this.past.get(epoch) ?? 0;
    this.past.delete(epoch);
    this.past.set(epoch, Math.max(known, seq));
    if (this.past.size > PAST_FEEDS_PER_PROXY * Math.max(1, this.current.length)) this.past.delete(this.past.keys().next().value as string);
  }
}
