// A route's lease in time: it runs out at its expiry by the wall clock (the time the rollout sent, what a restart
// reads back), or once as long has passed on the steady clock since it was set, whichever comes first, so a wall
// clock set back (an NTP step, a VM resumed) cannot stretch it. A check is scheduled for its end, so an idle proxy
// also returns to blue.
import { steadyNow, type Clock } from '../core/clock.js';
import type { Route } from './route.js';

/** Longest lease one call may ask for: a controller that dies must not pin green for long. */
export const MAX_LEASE_MS = 10 * 60_000;

/**
 * A saved lease runs at most its own length (and never past MAX_LEASE_MS) from a restart. Its expiry is the writer's
 * wall clock: written by a clock that was ahead (set back since by NTP, or another machine's, the state folder on
 * shared storage), it would have kept green for as long as the difference, an hour for an hour, with no rollout.
 */
export function boundLease(route: Route, now: number): Route {
  if (route.leaseExpiresAt === undefined || route.promotedArm !== undefined) return route;
  const length = leaseLength(route);
  return route.leaseExpiresAt - now > length ? { ...route, leaseExpiresAt: now + length } : route;
}

/** How long a route's lease was set for (its TTL, from its setting to its expiry), at most MAX_LEASE_MS; 0 with none. */
export function leaseLength(route: Route): number {
  return route.leaseExpiresAt === undefined ? 0 : Math.min(MAX_LEASE_MS, Math.max(0, route.leaseExpiresAt - route.updatedAt));
}

/** Runs `check` after `ms`; returns a cancel function. */
export type LeaseSchedule = (ms: number, check: () => void) => () => void;

/** An unref'd setTimeout: the lease's check never holds the process open. */
function unrefSchedule(ms: number, check: () => void): () => void {
  const timer = setTimeout(check, ms);
  timer.unref();
  return () => clearTimeout(timer);
}

/** One lease at a time: when it runs out, and the check scheduled for then. */
export class LeaseClock {
  /** When the lease runs out by the steady clock, whatever the wall clock says then. */
  private steadyDeadline?: number;
  /** The steady deadline of a lease applied as run out before it (by a wall clock set forward): see lapse(). */
  private lapsedDeadline?: number;
  private cancelCheck?: () => void;
  /** steadyNow(clock), looked up once: it is read on every request the proxy routes. */
  private readonly steadyNow: () => number;

  /**
   * `clock.steadyNow` times the lease a second way; a clock without one (a hand-driven test clock, the only time there is)
   * times it by its wall clock alone.
   */
  constructor(
    private readonly clock: Pick<Clock, 'now' | 'steadyNow'>,
    private readonly schedule: LeaseSchedule = unrefSchedule,
  ) {
    this.steadyNow = clock.steadyNow ? clock.steadyNow.bind(clock) : () => steadyNow(clock);
  }

  /** Whether a lease expiring at `leaseExpiresAt` (wall clock) has run out; no lease has. */
  runOut(leaseExpiresAt: number | undefined): boolean {
    if (leaseExpiresAt === undefined || this.clock.now() >= leaseExpiresAt) return true;
    return this.steadyDeadline !== undefined && this.steadyNow() >= this.steadyDeadline;
  }

  /**
   * Times a lease expiring at `leaseExpiresAt`, counted on the steady clock from its first watch (a renewal is a new
   * lease: forget() first), and calls `due` a millisecond after its wall-clock expiry, so the check sees it run out.
   */
  watch(leaseExpiresAt: number, due: () => void): void {
    this.stop();
    const left = Math.max(0, leaseExpiresAt - this.clock.now());
    // Counted from now on the steady clock too; a later wall-clock step back cannot lengthen it.
    this.steadyDeadline ??= this.steadyNow() + left;
    this.cancelCheck = this.schedule(left + 1, () => {
      this.cancelCheck = undefined;
      due();
    });
  }

  /** The lease ended (renewed, replaced): the next watch counts afresh. */
  forget(): void {
    this.stop();
    this.steadyDeadline = undefined;
    this.lapsedDeadline = undefined;
  }

  /**
   * The lease was applied as run out (the proxy serves blue): the next watch counts afresh, but its steady deadline
   * is kept for lapsedLeft(), since a wall clock set forward ends a lease its controller may still be renewing.
   */
  lapse(): void {
    const deadline = this.steadyDeadline;
    this.forget();
    this.lapsedDeadline = deadline;
  }

  /**
   * A lapsed lease read back from the route file by a restarted proxy: it may still run for `leftMs` on the steady
   * clock from now (the proxy cannot know how long it was down, so the most it could: see RouteFile's lapsedHold).
   */
  restoreLapse(leftMs: number): void {
    this.lapsedDeadline = this.steadyNow() + Math.min(MAX_LEASE_MS, Math.max(0, leftMs));
  }

  /** How long the lapsed lease would still run on the steady clock (0: it ran out there too, or none lapsed). */
  lapsedLeft(): number {
    return this.lapsedDeadline === undefined ? 0 : Math.max(0, this.lapsedDeadline - this.steadyNow());
  }

  /** Cancels the scheduled check (the proxy is closing). */
  stop(): void {
    this.cancelCheck?.();
    this.cancelCheck = undefined;
  }
}
