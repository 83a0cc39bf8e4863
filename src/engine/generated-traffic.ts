// Generated traffic as a TrafficSource: the open-model arrival scheduler feeds the dispatcher, which sends each
// request to the arm the splitter picks at the current weight.
import type { Clock } from '../core/clock.js';
import { formatDuration, formatPlural } from '../core/format.js';
import type { UpstreamResult } from '../upstream/types.js';
import type { ArmName, UpstreamConfig } from '../plan/plan.js';
import { longestLifeMs, longestRequestMs } from '../core/retry.js';
import { createQualityChecker } from '../analysis/index.js';
import type { ArmClient, Arrivals, EngineDeps, RequestSource, Splitter } from './deps.js';
import { Dispatcher } from './dispatcher.js';
import { comparesWithBlue } from '../plan/judging-odds.js';
import type { TrafficSource, TrafficSourceFactory } from './traffic-source.js';

export interface GeneratedTrafficOptions {
  clients: Record<ArmName, ArmClient>;
  traffic: RequestSource;
  splitter: Splitter;
  arrivals: (onArrival: () => void) => Arrivals;
  maxInFlight: number;
  checkQuality: (result: UpstreamResult) => { ok: boolean; reason?: string };
  clock: Clock;
  /** How long a stage's end waits at most for the requests sent in it (a request's longest life, retries included). */
  longestRequestMs: number;
  /** The longest a request lives, a server's retry-after included (longestLifeMs): the last stage's end waits that long. */
  longestLifeMs: number;
  /** A rule compares green with blue (compare_to_blue, the built-in guard): blue's answers then judge green too. */
  comparesWithBlue: boolean;
}

export function generatedTraffic(options: GeneratedTrafficOptions): TrafficSourceFactory {
  return (context): TrafficSource => {
    const dispatcher = new Dispatcher({
      clients: options.clients,
      traffic: options.traffic,
      splitter: options.splitter,
      metrics: context.metrics,
      maxInFlight: options.maxInFlight,
      checkQuality: options.checkQuality,
      onGreenResult: (result, quality) => context.onGreenResult(result, quality),
      onFailure: context.onFailure ? (arm, result) => context.onFailure?.(arm, result) : undefined,
      greenWatch: context.greenWatch,
      blueWatch: context.blueWatch,
      onError: (error) => context.fail(error),
    });
    const setTimer = (fn: () => void, ms: number) => options.clock.setTimer(fn, ms);
    const arrivals = options.arrivals(() => {
      // Sent at the current stage, which is the ending stage's until the next is entered (its traffic moved): so
      // arrivals while a stage's end waits for its requests (catchUp) go out at its weight and are recorded in it.
      // The wait does not wait for them, and whether the stage passes is judged without them (tagsSends): those
      // that answer before its end can only breach it, the rest count in its figures only.
      const current = context.current();
      if (current) dispatcher.dispatch(current.stage, current.greenWeight);
    });
    return {
      tagsSends: true,
      start: () => arrivals.start(),
      // The ending: a stage's end waiting for its requests gives up at once (the ending drains or cancels them).
      stop: () => {
        arrivals.stop();
        dispatcher.endWaits();
      },
      drain: (timeoutMs) => dispatcher.drain(timeoutMs, setTimer),
      cancelAll: () => dispatcher.cancelAll(),
      // A stage is judged once its requests answered, so an answer (a failure, a slow one) that comes after its
      // time is up still counts in it; a request hanging past its longest time (timeouts and retries) holds it no
      // longer than that. One answering later still is a late result, judged with its stage at the next judgement
      // (stage-steps.ts judgeLate). The last stage's end waits for every stage's requests (nothing judges after the
      // promotion): green's, and blue's only when a rule compares green with them; otherwise a blue answer judges
      // nothing green is promoted on, and a slow blue held the promotion, then rolled it back (still_running).
      catchUp: async (stage, waiting, final) => {
        // Before the promotion nothing judges later: it waits out a server's retry-after too (a rate limit is no hang).
        const timeoutMs = final ? options.longestLifeMs : options.longestRequestMs;
        const scope = final ? (options.comparesWithBlue ? 'every' : 'every green') : stage;
        const running = await dispatcher.settled(scope, timeoutMs, setTimer, (requests) =>
          waiting?.({ requests, timeoutMs, ...(final && { beforePromotion: true }) }),
        );
        if (running > 0 && !final && context.current() !== undefined)
          context.warn?.(
            `stage ${stage + 1} is judged without ${formatPlural(running, 'request')} sent in it and still running after the longest time a request can take with its retries (${formatDuration(options.longestRequestMs)}): each is judged with stage ${stage + 1} when it answers, at the rollout's next judgement`,
          );
        return running;
      },
    };
  };
}

function longestOf(upstream: UpstreamConfig): number {
  return longestRequestMs(upstream.timeout.requestMs, upstream.retries);
}

/** The engine's sources: the ones it was given, or generated traffic from its clients and traffic mix. */
export function sourcesOf(deps: EngineDeps): TrafficSourceFactory[] {
  const { plan } = deps;
  return (
    deps.sources ?? [
      generatedTraffic({
        clients: deps.clients,
        traffic: deps.traffic,
        splitter: deps.splitter,
        arrivals: deps.arrivals,
        maxInFlight: plan.traffic.max_in_flight,
        checkQuality: createQualityChecker(plan.analysis.quality),
        clock: deps.clock,
        // Blue's answers are judged too (the comparisons): the longer of the two arms' requests, retries included
        // (a hanging green's failure is only recorded once its last attempt timed out).
        longestRequestMs: Math.max(longestOf(plan.arms.blue.upstream), longestOf(plan.arms.green.upstream)),
        longestLifeMs: Math.max(
          ...[plan.arms.blue.upstream, plan.arms.green.upstream].map((upstream) => longestLifeMs(upstream.timeout.requestMs, upstream.retries)),
        ),
        comparesWithBlue: comparesWithBlue(plan),
      }),
    ]
  );
}
