// Blue's send times for the p95 ratio judged sent-before on live traffic (src/analysis/quantile.ts, SentBefore):
// each stage's blue sends as each proxy last reported them with a results page (inFlight.blueSent, BlueSentReport),
// checked against the blue results this rollout recorded from that proxy process. Every age in a report is measured
// on the proxy's own steady clock at that page (when each attempt began, and the page's moment). The counts are
// exact for a moment at or before each age asked (SendTimes, then the report's grid rounding the age up), never
// more sends counted as old than were. Given only where they are blue's whole sample in the stage, every proxy's:
// - one proxy process per proxy for the stage (its results and reports all in one feed epoch): a restart loses the
//   old process's figures, and handed-over results (origin) are numbered in another feed;
// - nothing missed (the ring overran the reader), no result without a stage, no blue attempt ended without a result
//   (BlueSentReport.exact), and the blue results recorded from the process up to its last page plus its blue attempts
//   under way then are its sends. A running fallback (blue answering for green) counts in blue's requests in flight,
//   not in these: the judge's own check (sent.requests and the running ages against the arm's sample) then takes
//   the conservative count. One proxy short of any of these: the stage is judged on the conservative count.
// One proxy: the look is its page, and "sent at least v before it" is a prefix of its sends in the order sent.
// Several (an application behind N replicas): their pages are read at different moments, on clocks not set to one
// another, and one whose read failed keeps its older page (its results recorded up to that page, checked as above).
// Each proxy cut at v before its own page would not do: across looks the pages' moments shift against each other,
// so the samples would be prefixes of no one order, and the confidence sequence holds at every n of ONE stream
// (quantile.ts). So the look is one moment T, the earliest page asked on this machine, and the sample at v is every
// proxy's blue requests sent before T - cv (real time; c = 1 / (1 - 1e-3), for steady clocks off real time, CLOCK_RATE):
// chosen by send time alone, never by latency, a prefix of all the proxies' sends in the order sent (real time) at
// every look and every v, however the looks fall (one per read round, a stale page taking T back, the sample
// shrinking: the sequence holds at every n at once). A proxy's page came back at most lagAfter(T) after T, so its
// count at the age CLOCK_RATE x (v + that lag) on its own clock is of its sends before T - cv, or fewer (rounded up
// to the grid). Over v, the judge counts every answered request over v (each proxy's results up to its page are in
// the metrics) and every running one reported at least v old (ages rounded up); those of the sample running at a
// page are at least v old there on its clock. So the sample holds at least the requests counted, and no more of them
// over v than counted: either only raises the bound (the one-sided mixture rises with n at a fixed count, falls as
// the count rises). Every stage's view at one judgement is of the same pages and T, so the stages summed at 100% green
// (reference.ts, blueSentReference) are one such prefix too. Assumed, as the pooled conservative count does: blue's
// latencies at every proxy drawn alike, independent of when sent; and every steady clock within 1e-3 of real time
// while counting (a proxy's machine suspended mid-request would break it; this machine's is checked by its wall clock).
import type { SentBefore } from '../analysis/quantile.js';
import { ageStepAtOrAbove, ageStepMs, MAX_AGE_STEP } from '../metrics/send-ages.js';
import type { BlueSentReport } from '../proxy/metrics.js';
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

/** What a proxy's last page said of blue's sends, per stage, in its feed `epoch`. */
interface Reported extends PageMoment {
  epoch: string;
  stages: Map<number, BlueSentReport | undefined>;
}

/** One proxy's part: its last page's reports, its blue results recorded per stage, and its stages known inexact. */
class ProxySends {
  reported?: Reported;
  /** Blue's own results recorded per stage, and the feed epoch they came from. */
  private readonly recorded = new Map<number, { epoch: string; results: number }>();
  /** Stages whose blue sends are not known to be its sample (see the header). */
  private readonly inexact = new Set<number>();

  result(epoch: string, entry: FeedEntry, stage: number | undefined): void {
    if (stage === undefined) return;
    if (entry.origin !== undefined || entry.stage === undefined) {
      this.inexact.add(stage);
      return;
    }
    // The client's own bad request is not among the proxy's blue sends either (ProxyMetrics.finished takes it back).
    if (entry.kind !== 'routed' || entry.result.arm !== 'blue' || entry.result.clientFault === true) return;
    const counted = this.recorded.get(stage);
    if (counted && counted.epoch !== epoch) this.inexact.add(stage);
    else if (counted) counted.results++;
    else this.recorded.set(stage, { epoch, results: 1 });
  }

  lost(stage: number | undefined): void {
    if (stage !== undefined) this.inexact.add(stage);
  }

  /** The stage's report of the last page, when it counts exactly the blue results recorded from that process. */
  exact(stage: number): BlueSentReport | undefined {
    const reported = this.reported;
    const report = reported?.stages.get(stage);
    if (!reported || !report || !report.exact || this.inexact.has(stage)) return undefined;
    const counted = this.recorded.get(stage) ?? { epoch: reported.epoch, results: 0 };
    if (counted.epoch !== reported.epoch) return undefined;
    const running = report.running.reduce((sum, count) => sum + count, 0);
    return counted.results + running === report.sends ? report : undefined;
  }
}

export class LiveBlueSent {
  /** Per proxy (the fleet's objects). */
  private readonly proxies = new Map<object, ProxySends>();

  /** A result `proxy` recorded into `stage` (the one record() files it under), read from its feed `epoch`. */
  result(proxy: object, epoch: string, entry: FeedEntry, stage: number | undefined): void {
    this.of(proxy).result(epoch, entry, stage);
  }

  /** Figures of `stage` at `proxy` were lost: results missed, or its process gone (restarted). */
  lost(proxy: object, stage: number | undefined): void {
    this.of(proxy).lost(stage);
  }

  /** Nothing known of `proxy`'s sends now: its process is gone (restarted), so its last page is no look at it. */
  forget(proxy: object): void {
    this.of(proxy).reported = undefined;
  }

  /**
   * A page's in-flight report (absent from a proxy before session 33), with the page's feed `epoch` and `moment`. A
   * proxy whose next read fails keeps this one: the results recorded from it are still those up to this page.
   */
  page(proxy: object, epoch: string, reports: unknown, moment: PageMoment): void {
    const stages = new Map<number, BlueSentReport | undefined>();
    // Two of one stage (its number set again by another run, or by hand): neither is known to be the sample.
    if (Array.isArray(reports)) for (const report of reports) if (isReport(report)) stages.set(report.stage, stages.has(report.stage) ? undefined : report);
    this.of(proxy).reported = { epoch, stages, ...moment };
  }

  /** Blue's sends in `stage` at every one of `proxies` as of their last pages, when they are its whole sample; undefined otherwise. */
  view(stage: number, proxies: readonly object[]): SentBefore | undefined {
    const parts: { report: BlueSentReport; moment: PageMoment }[] = [];
    for (const proxy of proxies) {
      const sends = this.proxies.get(proxy);
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

  private of(proxy: object): ProxySends {
    let sends = this.proxies.get(proxy);
    if (!sends) this.proxies.set(proxy, (sends = new ProxySends()));
    return sends;
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
function isReport(value: unknown): value is BlueSentReport {
  if (typeof value !== 'object' || value === null) return false;
  const { stage, sends, exact, sentAtLeast, running } = value as Record<string, unknown>;
  const counts = (list: unknown): boolean => Array.isArray(list) && list.length <= MAX_AGE_STEP + 1 && list.every(isCount);
  return isCount(stage) && isCount(sends) && typeof exact === 'boolean' && counts(sentAtLeast) && counts(running);
}

/** A count as a proxy's page gives it: a whole number, 0 or more. */
export function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
