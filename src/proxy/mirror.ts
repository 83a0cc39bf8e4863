// Mirror: a background copy of a blue-routed request sent to green, judged and discarded. The client never
// waits for it or sees it; past the in-flight limit copies are dropped (and counted), never queued.
import type { ProxyMetrics, SplitPathName } from './metrics.js';
import { forward } from './forward.js';
import type { ForwardRequest, ForwardTarget } from './forward-types.js';
import { SignalWatch } from '../upstream/signal-watch.js';
import { isPlainClientError, recordRefusal, type BlueAnswer } from './neutral.js';

export interface Mirror {
  /**
   * Starts a copy to green's `target` (on the request's split path) unless the limit is reached; returns at once.
   * `blue`: the original's answer, which a plain client error of the copy waits for (neutral.ts).
   */
  send(target: ForwardTarget, request: ForwardRequest, path: SplitPathName, blue?: BlueAnswer): void;
  inFlight(): number;
}

export function createMirror(metrics: ProxyMetrics, limit: number, steadyNow: () => number, shutdown: AbortSignal): Mirror {
  let running = 0;
  // Every copy in flight joins one watch on the shutdown signal.
  const cancel = new SignalWatch(shutdown);
  return {
    send(green, request, path, blue) {
      if (running >= limit) {
        metrics.mirrorDropped();
        return;
      }
      running++;
      const at = metrics.started('green', request.stream);
      forward(green, request, undefined, steadyNow, cancel).then(
        (outcome) => {
          running--;
          const { result } = outcome;
          if (!blue || !isPlainClientError(result)) return metrics.finished(result, 'mirror', at, path);
          // Under way until blue's answer to the original says what it is (a stage's end waits for it).
          blue.whenSettled((verdict) => recordRefusal(metrics, result, verdict, 'mirror', at, path));
        },
        () => {
          // Only the proxy shutting down aborts a copy.
          running--;
          metrics.cancelled('green', at);
        },
      );
    },
    inFlight: () => running,
  };
}
