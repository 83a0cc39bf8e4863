// The plain reporter: one timestamped line per event and a monitor line every few seconds, for logs and CI.
import type { RolloutEvent, RolloutSnapshot } from '../engine/types.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { formatMs, formatPercent } from '../core/format.js';

export interface LineReporterOptions {
  write: (line: string) => void;
  snapshot: () => RolloutSnapshot;
  clock: Clock;
  monitorIntervalMs?: number;
}

export function timestamp(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(11, 23);
}

export function formatEventLine(event: RolloutEvent): string {
  const stage = event.stage !== undefined ? ` stage ${event.stage + 1}` : '';
  return `${timestamp(event.at)} ${event.type.padEnd(16)}${stage}: ${event.message}`;
}

export function formatMonitorLine(snapshot: RolloutSnapshot, now: number): string {
  const stage = snapshot.stages[snapshot.stageIndex];
  const arm = (name: 'blue' | 'green') => {
    const stats = stage?.arms[name];
    if (!stats) return `${name} -`;
    const rate = stats.requests ? stats.failures / stats.requests : null;
    return `${name} ${stats.requests} req ${formatPercent(rate)} err p95 ${formatMs(stats.latency?.p95)}`;
  };
  const dropped = (stage?.arms.blue.dropped ?? 0) + (stage?.arms.green.dropped ?? 0);
  const inFlight = (stage?.arms.blue.inFlight ?? 0) + (stage?.arms.green.inFlight ?? 0);
  return `${timestamp(now)} monitor          stage ${snapshot.stageIndex + 1}/${snapshot.plan.stages.length}: green ${formatPercent(snapshot.greenWeight, 0)} | ${arm('blue')} | ${arm('green')} | in flight ${inFlight}, dropped ${dropped}`;
}

/** Subscribe `onEvent` to the engine; call `stop` at the end. */
export function createLineReporter(options: LineReporterOptions): { onEvent: (event: RolloutEvent) => void; stop: () => void } {
  const interval = options.monitorIntervalMs ?? 5000;
  let timer: TimerHandle | undefined;
  let stopped = false;
  const schedule = () => {
    timer = options.clock.setTimer(() => {
      if (stopped) return;
      options.write(formatMonitorLine(options.snapshot(), options.clock.now()));
      schedule();
    }, interval);
  };
  schedule();
  return {
    onEvent: (event) => options.write(formatEventLine(event)),
    stop: () => {
      stopped = true;
      timer?.cancel();
    },
  };
}
