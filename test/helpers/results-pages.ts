// A proxy's admin API scripted by a test (its results pages, GET /admin/results), on 127.0.0.1, for the live
// source's stage-end tests: the attempts a proxy has under way and the results it has, as the test sets them.
import type { SentReport } from '../../src/proxy/metrics.js';
import type { FeedAnswer, FeedEntry } from '../../src/proxy/results-feed.js';
import type { UpstreamResult } from '../../src/upstream/types.js';
import { scriptedServer, type Scripted } from '../proxy/helpers.js';

/** An admin API answering each request with the page `answer` makes of its URL (path and query). */
export function scriptedResults(answer: (url: string | undefined) => FeedAnswer): Promise<Scripted> {
  return scriptedServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer(req.url)));
  });
}

/** Which proxy answers: what its pages hold besides the results and the counts up to inFlightUpTo. */
export interface AttemptsPageOptions {
  /** `inFlight.all`, every attempt under way, when the read asks for inFlightUpTo: a proxy since session 27. */
  all: boolean;
  /** Its results say their attempt's number (`sent`, and `sentTagged`): a proxy since session 28. Else `sent` is left out. */
  tagged: boolean;
  /** Its feed's epoch (default e1): another one is the proxy restarted. */
  epoch?: string;
  /** The attempts under way are blue answering for green (`fallbacks`: a proxy since session 29), not green's. */
  fallbacks?: boolean;
}

/**
 * A results page as a proxy answers `url`: the feed after `after`, and its attempts under way (by number), all green
 * (or all blue's fallbacks) in stage 0, counted up to inFlightUpTo when asked. `started` is the highest attempt number known: one under way, or
 * a result's (its `sent`, else its place in the feed).
 */
export function attemptsPage(
  url: string | undefined,
  feed: readonly FeedEntry[],
  attempts: readonly number[],
  { all, tagged, epoch = 'e1', fallbacks = false }: AttemptsPageOptions,
): FeedAnswer {
  const query = new URL(url ?? '/', 'http://admin').searchParams;
  const after = Number(query.get('after'));
  const upTo = query.get('inFlightUpTo') === null ? Infinity : Number(query.get('inFlightUpTo'));
  const counted = attempts.filter((seq) => seq <= upTo).length;
  const results = feed.slice(after).map((entry) => {
    if (tagged) return entry;
    const { sent: _sent, ...older } = entry;
    return older;
  });
  const tags = (requests: number) => (requests > 0 ? [{ stage: 0, requests, ...(fallbacks ? { green: 0, fallbacks: requests } : { green: requests }) }] : []);
  return {
    epoch,
    version: 2,
    missed: 0,
    head: feed.length,
    next: feed.length,
    results,
    inFlight: {
      started: Math.max(0, ...attempts, ...feed.map((entry) => entry.sent ?? entry.seq)),
      stages: tags(counted),
      ...(all && upTo !== Infinity && { all: tags(attempts.length) }),
      stallTimeoutMs: 10_000,
      ...(tagged && { sentTagged: true }),
    },
  };
}

/** A green answer (`ok`) or failure, as a result in a page holds it. */
/** A plain answer of `arm` in 5 ms, as a scripted results page carries it. */
export const armResult = (arm: 'blue' | 'green', ok: boolean): UpstreamResult => ({
  arm,
  model: `${arm}-model`,
  ok,
  content: '',
  latencyMs: 5,
  attempts: 1,
  stream: false,
});
export const greenResult = (ok: boolean): UpstreamResult => armResult('green', ok);

type StageReport = Omit<SentReport, 'stage' | 'exact'> & { exact?: boolean };

/**
 * A results page of a proxy in feed `epoch` holding `feed`, with its report of stage 0's blue sends, and of green's
 * when given (a proxy since session 35).
 */
export function pageWith(url: string | undefined, epoch: string, feed: readonly FeedEntry[], report: StageReport, green?: StageReport): FeedAnswer {
  const after = Number(new URL(url ?? '/', 'http://admin').searchParams.get('after'));
  return {
    epoch,
    version: 2,
    missed: 0,
    head: feed.length,
    next: Math.max(after, feed.length),
    results: feed.slice(after),
    inFlight: {
      started: feed.length,
      stages: [],
      sentTagged: true,
      stallTimeoutMs: 10_000,
      blueSent: [{ stage: 0, exact: true, ...report }],
      ...(green && { greenSent: [{ stage: 0, exact: true, ...green }] }),
    },
  };
}

/** `count` answers of `arm` in stage 0 (its split's), numbered from `from` + 1. */
export const armAnswers = (arm: 'blue' | 'green', count: number, from = 0): FeedEntry[] =>
  Array.from({ length: count }, (_, i) => ({
    seq: from + i + 1,
    stage: 0,
    sent: from + i + 1,
    kind: 'routed',
    result: armResult(arm, true),
    quality: { ok: true },
  }));
export const blueAnswers = (count: number): FeedEntry[] => armAnswers('blue', count);
