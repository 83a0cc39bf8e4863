// How far this rollout has recorded each proxy results feed, across its whole fleet: a result a stopped proxy
// handed over (src/proxy/handover.ts) may be served again by its replacement, by a proxy that stopped in turn,
// or by another proxy of the fleet on the same folder; it is judged once, whichever proxy serves it. A resumed
// rollout starts from what its dead run had recorded (resume-record.ts).

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

  /** `recorded`: what a dead run of this rollout had recorded (`rollout --resume`), per feed. */
  constructor(recorded: Readonly<Record<string, number>> = {}) {
    for (const [epoch, seq] of Object.entries(recorded)) this.past.set(epoch, seq);
  }

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

  /** Every feed's last result recorded, as a resumed run will start from it. */
  positions(): Record<string, number> {
    const all = new Map(this.past);
    for (const { epoch, cursor } of this.current) if (epoch !== undefined && cursor !== undefined) all.set(epoch, Math.max(all.get(epoch) ?? 0, cursor));
    return Object.fromEntries(all);
  }
}
