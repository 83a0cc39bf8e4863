// The results this proxy keeps for the rollout driving it (GET /admin/results, results-feed.ts), with the handover
// (handover.ts): what proxies stopped on the same folder had not had read is served here first, and what this
// proxy's rollout has not read when it stops is written for the next. One object for the server's start, drain
// and close.
import { thisProcess } from '../core/proc-stat.js';
import { clientDigest } from './client-digest.js';
import { HandoverReader, HandoverWriter } from './handover.js';
import type { ProxyMetrics } from './metrics.js';
import { ResultsFeed } from './results-feed.js';
import type { RouteHolder } from './route-holder.js';

export interface RolloutFeed {
  feed: ResultsFeed;
  /** Before each read of the feed: what stopped proxies handed over is adopted. */
  poll(): void;
  /** The drain began: while a rollout drives this proxy, what its reader has not read is written as requests end. */
  startHandover(): void;
  /** Every request has ended: the last write, then the files adopted from may go. */
  finishHandover(): Promise<void>;
}

export function createRolloutFeed(options: {
  metrics: ProxyMetrics;
  /** The admin token: the key of the client digests results carry out (client-digest.ts). */
  adminToken: string;
  route: RouteHolder;
  stateDir?: string;
  now: () => number;
  log?: (message: string) => void;
}): RolloutFeed {
  const { metrics, route, stateDir, now, log } = options;
  // Each result under the rollout run whose route is in force: a handover is wanted by that run's reader only.
  const feed = new ResultsFeed(undefined, { controller: () => route.controller, clientDigest: clientDigest(options.adminToken) });
  metrics.onResult((result, kind, quality, stage, _path, sent) => feed.push(result, kind, quality, stage, sent));
  metrics.onAbandoned((result, kind, quality, stage, _path, sent) => feed.push(result, kind, quality, stage, sent));
  const handovers = stateDir !== undefined ? new HandoverReader(stateDir, feed, log) : undefined;
  handovers?.poll();
  let handingOver: HandoverWriter | undefined;
  return {
    feed,
    poll: () => handovers?.poll(),
    startHandover() {
      const { controller, ended, leaseExpiresAt } = route.stored;
      const driving = controller !== undefined && !ended && leaseExpiresAt !== undefined && leaseExpiresAt > now();
      if (stateDir === undefined || !driving || handingOver) return;
      // An older rollout reads without saying its feed and takes every result it reads, origin or not: its cursor
      // counts as read here, but what the replacement serves handed over it neither dedupes nor checks is its own.
      if (feed.readByOlderReader)
        log?.(
          `the rollout reading this proxy does not say which results it has read (a bluegreen older than this proxy): its unread results are handed over to the next proxy on ${stateDir}, which that rollout judges without checking whose they are; upgrade the rollout's bluegreen with the proxies`,
        );
      const writer = new HandoverWriter({ stateDir, feed, controller, ...thisProcess(), log });
      feed.onPush(() => writer.schedule());
      writer.schedule();
      handingOver = writer;
    },
    async finishHandover() {
      // What stopped proxies wrote since the last read goes into this proxy's own handover; once that holds what it
      // adopted and was not read, the files it adopted from may go.
      handovers?.poll();
      if (handingOver && (await handingOver.finish())) handovers?.release();
    },
  };
}
