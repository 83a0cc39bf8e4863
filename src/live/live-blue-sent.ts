// Blue's send times for the p95 ratio judged sent-before on live traffic (src/analysis/quantile.ts, SentBefore):
// each stage's blue sends as the proxy last reported them with a results page (inFlight.blueSent, BlueSentReport),
// checked against the blue results this rollout recorded from that proxy process. Every age in a report is measured
// on the proxy's own steady clock at that page (when each attempt began, and the page's moment): no clock of this
// machine is mixed in, and the judgement's look is that page, whose results and requests under way the metrics hold.
// The counts are exact for a moment at or before each age asked (SendTimes, then the report's grid rounding the age
// up), never more sends counted as old than were. Given only where they are blue's whole sample in the stage:
// - one proxy: several proxies' reads are at moments on different clocks, and no moment is known to be the same
//   (stages summed at 100% green rely on one moment for every stage: reference.ts, blueSentReference);
// - one proxy process for the stage (its results and reports all in one feed epoch): a restart loses the old
//   process's figures, and its handed-over results (origin) are numbered in another feed;
// - nothing missed (the ring overran the reader), no result without a stage, no blue attempt ended without a result
//   (BlueSentReport.exact), and the blue results recorded from the process plus its blue attempts under way are its
//   sends. A running fallback (blue answering for green) counts in blue's requests in flight, not in these: the
//   judge's own check (sent.requests and the running ages against the arm's sample) then takes the conservative count.
import type { SentBefore } from '../analysis/quantile.js';
import { ageStepAtOrAbove, ageStepMs, MAX_AGE_STEP } from '../metrics/send-ages.js';
import type { BlueSentReport } from '../proxy/metrics.js';
import type { FeedEntry } from '../proxy/results-feed.js';

/** What one page said of blue's sends, per stage, in its feed `epoch`. */
interface Reported {
  epoch: string;
  stages: Map<number, BlueSentReport | undefined>;
}

export class LiveBlueSent {
  private reported?: Reported;
  /** Blue's own results recorded per stage, and the feed epoch they came from. */
  private readonly recorded = new Map<number, { epoch: string; results: number }>();
  /** Stages whose blue sends are not known to be their sample (see the header). */
  private readonly inexact = new Set<number>();

  /** A result recorded into `stage` (the one record() files it under), read from feed `epoch`. */
  result(epoch: string, entry: FeedEntry, stage: number | undefined): void {
    if (stage === undefined) return;
    if (entry.origin !== undefined || entry.stage === undefined) {
      this.inexact.add(stage);
      return;
    }
    if (entry.kind !== 'routed' || entry.result.arm !== 'blue') return;
    const counted = this.recorded.get(stage);
    if (counted && counted.epoch !== epoch) this.inexact.add(stage);
    else if (counted) counted.results++;
    else this.recorded.set(stage, { epoch, results: 1 });
  }

  /** Figures of `stage` were lost: results missed, or a proxy process gone (restarted). */
  lost(stage: number | undefined): void {
    if (stage !== undefined) this.inexact.add(stage);
  }

  /** A page's in-flight report (absent from a proxy before session 33), with the page's feed `epoch`. */
  page(epoch: string, reports: unknown): void {
    const stages = new Map<number, BlueSentReport | undefined>();
    // Two of one stage (its number set again by another run, or by hand): neither is known to be the sample.
    if (Array.isArray(reports)) for (const report of reports) if (isReport(report)) stages.set(report.stage, stages.has(report.stage) ? undefined : report);
    this.reported = { epoch, stages };
  }

  /** Nothing known of the proxy's sends now (a page without a report, or a read that failed midway). */
  forget(): void {
    this.reported = undefined;
  }

  /** Blue's sends in `stage` as of the last page, when they are its whole sample; undefined otherwise. */
  view(stage: number, proxies: number): SentBefore | undefined {
    const reported = this.reported;
    const report = reported?.stages.get(stage);
    if (proxies !== 1 || !reported || !report || !report.exact || this.inexact.has(stage)) return undefined;
    const counted = this.recorded.get(stage) ?? { epoch: reported.epoch, results: 0 };
    if (counted.epoch !== reported.epoch) return undefined;
    const runningAgesMs: number[] = [];
    report.running.forEach((count, step) => {
      for (let i = 0; i < count; i++) runningAgesMs.push(ageStepMs(step));
    });
    if (counted.results + runningAgesMs.length !== report.sends) return undefined;
    const { sentAtLeast } = report;
    return { requests: report.sends, runningAgesMs, sentAtLeast: (ageMs) => Math.min(report.sends, sentAtLeast[ageStepAtOrAbove(ageMs)] ?? 0) };
  }
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
