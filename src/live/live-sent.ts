// Each arm's send times for the p95 ratio judged sent-before on live traffic (src/analysis/quantile.ts, SentBefore):
// blue's for its upper bound (the breach side), green's for its own (the ok side). Each stage's sends of the arm as
// each proxy last reported them with a results page (inFlight.blueSent, inFlight.greenSent: SentReport), checked
// against the arm's results this rollout recorded from that proxy process. Every age in a report is measured on the
// proxy's own steady clock at that page (when each attempt began, and the page's moment). The counts are exact for a
// moment at or before each age asked (SendTimes, then the report's grid rounding the age up), never more sends counted
// as old than were.
// The sends must be the very requests the judge's sample of the arm is, or the bound is of another sample. That sample
// in a stage is the results live-source.ts records as the arm's (record: every result but blue's answer to a green
// fallback, filed under the arm that answered), plus the arm's attempts under way at the proxies (inFlight.stages:
// `green`, the rest as blue's). Blue's sends are its own attempts (not its answers to green's fallbacks, which are in
// no arm's results: a fallback running at a page is counted in blue's requests in flight but not in its sends, and the
// judge's own check, sent.requests and the running ages against the arm's sample, then takes the conservative count).
// Green's are every attempt on green, and each ends in exactly one green result in the feed or makes the report
// inexact: the split's, answered or failed (one that fails and falls back is recorded as green's failure before blue's
// attempt begins), mirror copies (kind `mirror`: judged as green's results, on a shadow stage and beside the split; a
// copy dropped at the mirror limit is never sent, so in neither), a client's abort before the first byte (a
// client_abort result, in green's sample); a client gone after the first bytes, a copy cut by the proxy's shutdown, or
// the proxy's own error leaves no result and sets SentReport.exact false. So the two are one set of requests exactly
// when, at every proxy, the report is exact and the arm's results recorded from its process up to its last page plus
// its attempts under way then are its sends (checked below): given only then, every proxy's:
// - one proxy process per proxy for the stage (its results and reports all in one feed epoch): a restart loses the
//   old process's figures, and handed-over results (origin) are numbered in another feed;
// - nothing missed (the ring overran the reader), no result without a stage, the report `exact`, and the counts above
//   equal. One proxy short of any of these (or one before session 35, which reports no green sends): the stage is
//   judged on the conservative count for that arm.
// One proxy: the look is its page, and "sent at least v before it" is a prefix of its sends in the order sent.
// Several (an application behind N replicas): their pages are read at different moments, on clocks not set to one
// another, and one whose read failed keeps its older page (its results recorded up to that page, checked as above).
// Each proxy cut at v before its own page would not do: across looks the pages' moments shift against each other,
// so the samples would be prefixes of no one order, and the confidence sequence holds at every n of ONE stream
// (quantile.ts). So the look is one moment T, the earliest page asked on this machine, and the sample at v is every
// proxy's requests of the arm sent before T - cv (real time; c = 1 / (1 - 1e-3), for steady clocks off real time,
// CLOCK_RATE): chosen by send time alone, never by latency, a prefix of all the proxies' sends in the order sent (real
// time) at every look and every v, however the looks fall (one per read round, a stale page taking T back, the sample
// shrinking: the sequence holds at every n at once). A proxy's page came back at most lagAfter(T) after T, so its
// count at the age CLOCK_RATE x (v + that lag) on its own clock is of its sends before T - cv, or fewer (rounded up
// to the grid). Over v, the judge counts every answered request over v (each proxy's results up to its page are in
// the metrics) and every running one reported at least v old (ages rounded up); those of the sample running at a
// page are at least v old there on its clock. So the sample holds at least the requests counted, and no more of them
// over v than counted: either only raises the bound (the one-sided mixture rises with n at a fixed count, falls as
// the count rises). Every stage's view at one judgement is of the same pages and T, so the stages summed at 100% green
// (reference.ts, blueSentReference) are one such prefix too. Assumed, as the pooled conservative count does: the arm's
// latencies at every proxy drawn alike, independent of when sent; and every steady clock within 1e-3 of real time
// while counting (a proxy's machine suspended mid-request would break it; this machine's is checked by its wall clock).
import type { SentBefore } from '../analysis/quantile.js';
import { ageStepAtOrAbove, ageStepMs, MAX_AGE_STEP } from '../metrics/send-ages.js';
import type { ArmName } from '../plan/plan.js';
import type { SentReport } from '../proxy/metrics.js';
import type { FeedEntry } from '../proxy/results-feed.js';

/**
 * How much longer a duration may read on one machine's steady clock than on another's: each runs within 1e-3 of
 * real time (crystals err by tens of ppm, NTP slews a clock by at most 500 ppm), so at most (1 + 1e-3) / (1 - 1e-3).
 */
const CLOCK_RATE = (1 + 1e-3) / (1 - 1e-3);

/** A moment on the rollout's machine: its steady clock and its wall clock (ms). */
export interface Instant {
  steady: number;
  wall: number;
}

/** When a page was asked for and when it came back. */
export interface PageMoment {
  asked: Instant;
  answered: Instant;
}

/** What a proxy's last page said of the arm's sends, per stage, in its feed `epoch`. */
interface Reported extends PageMoment {
  epoch: string;
  stages: Map<number, SentReport | undefined>;
}

/** One proxy's part for one arm: its last page's reports, the arm's results recorded per stage, and its stages known inexact. */
class ProxySends {
  reported?: Reported;
  /** The arm's results recorded per stage, and the feed epoch they came from. */
  private readonly recorded = new Map<number, { epoch: string; results: number }>();
  /** Stages whose sends are not known to be the arm's sample (see the header). */
  private readonly inexact = new Set<number>();

  constructor(private readonly arm: ArmName) {}

  result(epoch: string, entry: FeedEntry, stage: number | undefined): void {
    if (stage === undefined) return;
    if (entry.origin !== undefined || entry.stage === undefined) {
      this.inexact.add(stage);
      return;
    }
    // The arm's sample as live-source.ts records it: a fallback's answer is blue's but no one's sample.
    // A neutral result is in no sample, nor among the proxy's sends (ProxyMetrics takes its send back).
    if (entry.kind === 'fallback' || entry.result.arm !== this.arm || entry.result.neutral) return;
    const counted = this.recorded.get(stage);
    if (counted && counted.epoch !== epoch) this.inexact.add(stage);
    else if (counted) counted.results++;
    else this.recorded.set(stage, { epoch, results: 1 });
  }

  lost(stage: number | undefined): void {
    if (stage !== undefined) this.inexact.add(stage);
  }

  /** The stage's report of the last page, when it counts exactly the arm's results recorded from that process. */
  exact(stage: number): SentReport | undefined {
    const reported = this.reported;
    const report = reported?.stages.get(stage);
    if (!reported || !report || !report.exact || this.inexact.has(stage)) return undefined;
    const counted = this.recorded.get(stage) ?? { epoch: reported.epoch, results: 0 };
    if (counted.epoch !== reported.epoch) return undefined;
    const running = report.running.reduce((sum, count) => sum + count, 0);
    return counted.results + running === report.sends ? report : undefined;
  }
}

export class LiveSent {
  /** Per proxy (the fleet's objects), per arm. */
  private readonly proxies = new Map<object, Record<ArmName, ProxySends>>();

  /** A result `proxy` recorded into `stage` (the one record() files it under), read from its feed `epoch`. */
  result(proxy: object, epoch: string, entry: FeedEntry, stage: number | undefined): void {
    const arms = this.of(proxy);
    arms.blue.result(epoch, entry, stage);
    arms.green.result(epoch, entry, stage);
  }

  /** Figures of `stage` at `proxy` were lost: results missed, or its process gone (restarted). */
  lost(proxy: object, stage: number | undefined): void {
    const arms = this.of(proxy);
    arms.blue.lost(stage);
    arms.green.lost(stage);
  }

  /** Nothing known of `proxy`'s sends now: its process is gone (restarted), so its last page is no look at it. */
  forget(proxy: object): void {
    const arms = this.of(proxy);
    arms.blue.reported = undefined;
    arms.green.reported = undefined;
  }

  /**
   * A page's in-flight reports of each arm (blue's absent from a proxy before session 33, green's before session 35),
   * with the page's feed `epoch` and `moment`. A proxy whose next read fails keeps this one: the results recorded from
   * it are still those up to this page.
   */
  page(proxy: object, epoch: string, reports: Record<ArmName, unknown>, moment: PageMoment): void {
    const arms = this.of(proxy);
    for (const arm of ['blue', 'green'] as const) {
      const stages = new Map<number, SentReport | undefined>();
      const list = reports[arm];
      // Two of one stage (its number set again by another run, or by hand): neither is known to be the sample.
      if (Array.isArray(list)) for (const report of list) if (isReport(report)) stages.set(report.stage, stages.has(report.stage) ? undefined : report);
      arms[arm].reported = { epoch, stages, ...moment };
    }
  }

  /** The arm's sends in `stage` at every one of `proxies` as of their last pages, when they are its whole sample; undefined otherwise. */
  view(arm: ArmName, stage: number, proxies: readonly object[]): SentBefore | undefined {
    const parts: { report: SentReport; moment: PageMoment }[] = [];
    for (const proxy of proxies) {
      const sends = this.proxies.get(proxy)?.[arm];
      const report = sends?.exact(stage);
      if (!sends?.reported || !report) return undefined;
      parts.push({ report, moment: sends.reported });
    }
    if (parts.length === 0) return undefined;
    // One proxy: its page is the look, ages as asked. Several: the earliest asked is (see the header).
    const look = parts.reduce(
      (earliest, { moment }) => (moment.asked.steady < earliest.steady ? moment.asked : earliest),
      (parts[0] as (typeof parts)[number]).moment.asked,
    );
    const requests = parts.reduce((sum, { report }) => sum + report.sends, 0);
    const runningAgesMs: number[] = [];
    for (const { report } of parts)
      report.running.forEach((count, step) => {
        for (let i = 0; i < count; i++) runningAgesMs.push(ageStepMs(step));
      });
    const ages = parts.map(({ report, moment }) => ({
      report,
      at: (ageMs: number) => (parts.length === 1 ? ageMs : (ageMs + lagAfter(look, moment.answered)) * CLOCK_RATE),
    }));
    const sentAtLeast = (ageMs: number): number =>
      Math.min(
        requests,
        ages.reduce((sum, { report, at }) => sum + Math.min(report.sends, report.sentAtLeast[ageStepAtOrAbove(at(ageMs))] ?? 0), 0),
      );
    return { requests, runningAgesMs, sentAtLeast };
  }

  private of(proxy: object): Record<ArmName, ProxySends> {
    let arms = this.proxies.get(proxy);
    if (!arms) this.proxies.set(proxy, (arms = { blue: new ProxySends('blue'), green: new ProxySends('green') }));
    return arms;
  }
}

/**
 * How long after `look` `then` came, at most: the steady clock's count, or the wall clock's where longer (a machine
 * suspended meanwhile: its steady clock stands still, its wall clock is set right on waking).
 */
function lagAfter(look: Instant, then: Instant): number {
  return Math.max(0, then.steady - look.steady, then.wall - look.wall);
}

/** A report as a proxy's page gives it: whole counts, bounded lists (a server that is no bluegreen proxy may send anything). */
function isReport(value: unknown): value is SentReport {
  if (typeof value !== 'object' || value === null) return false;
  const { stage, sends, exact, sentAtLeast, running } = value as Record<string, unknown>;
  const counts = (list: unknown): boolean => Array.isArray(list) && list.length <= MAX_AGE_STEP + 1 && list.every(isCount);
  return isCount(stage) && isCount(sends) && typeof exact === 'boolean' && counts(sentAtLeast) && counts(running);
}

/** A count as a proxy's page gives it: a whole number, 0 or more. */
export function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
