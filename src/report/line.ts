// The plain reporter: one timestamped line per event and a monitor line every few seconds, for logs and CI.
import type { RolloutEvent, RolloutSnapshot } from '../engine/types.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { formatRange, formatSure } from '../analysis/format.js';
import type { CheckResult } from '../analysis/types.js';
import type { ArmStats } from '../metrics/types.js';
import { formatFigure, formatMs, formatPercent, formatPlural, formatWeight } from '../core/format.js';
import { checkDecimals, formatCheckValue, isRateDifference } from './check-value.js';
import { endingSentence, endingWatch, type EndingSummary } from './ending-text.js';
import { lostText } from './lost-text.js';
import { stageEndWaitText } from './stage-end-text.js';

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
  return `${timestamp(event.at)} ${event.type.padEnd(16)}${stagePrefix(event)} ${event.message}`;
}

/**
 * " stage 3:" before the message, or "" when the message begins with that stage already ("stage 3/5 started"):
 * "stage 3: stage 3/5 started" said it twice.
 */
function stagePrefix(event: RolloutEvent): string {
  if (event.stage === undefined) return ':';
  const label = `stage ${event.stage + 1}`;
  const named = event.message.startsWith(label) && !/^\d/.test(event.message.slice(label.length));
  return named ? '' : ` ${label}:`;
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
  // A resumed stage's requests in flight at the crash: never answered, so in neither arm's requests (lost-text.ts).
  const lost = lostText(stage);
  return `${timestamp(now)} monitor          stage ${snapshot.stageIndex + 1}/${snapshot.plan.stages.length}: green ${formatWeight(snapshot.greenWeight)} | ${arm('blue')} | ${arm('green')} | in flight ${inFlight}, dropped ${dropped}${lost === undefined ? '' : `, ${lost}`}`;
}

/**
 * The current stage's checks with their bounds, one line after each monitor line:
 * `checks  stage 2/5 (bounds 99.9% sure): error_rate 1.2% [0.1–6.3%] vs 5.0% undecided | latency_p95 ...`.
 */
export function formatChecksLine(snapshot: RolloutSnapshot, now: number): string | undefined {
  const checks = snapshot.checks.filter((check) => check.evidence !== undefined);
  if (checks.length === 0) return undefined;
  const level = formatSure(checks[0]!.evidence!.confidence);
  return `${timestamp(now)} checks           stage ${snapshot.stageIndex + 1}/${snapshot.plan.stages.length} (bounds ${level}): ${checks.map(checkText).join(' | ')}`;
}

function checkText(check: CheckResult): string {
  const evidence = check.evidence!;
  const difference = isRateDifference(check);
  // The p95 ratio to blue is a factor; every other evidence is about a rate (for latency rules, the share over the limit).
  const decimals = checkDecimals(check, evidence.estimate, evidence.limit, evidence);
  const show = (value: number) =>
    evidence.quantiles ? formatFigure(value, 'factor') : formatCheckValue({ rule: check.rule, unit: 'ratio' }, value, { decimals });
  const estimate = show(evidence.estimate);
  const limit = show(evidence.limit);
  const over = evidence.overMs !== undefined ? ` over ${formatFigure(evidence.overMs, 'ms')}` : '';
  return `${check.rule}${over} ${estimate} [${formatRange(evidence, difference, undefined, decimals)}] vs ${limit} ${check.status}`;
}

export interface LineReporter {
  onEvent: (event: RolloutEvent) => void;
  /** Stops the monitor lines and writes the closing line: the last thing the reporter prints. */
  finish: (ending: EndingSummary) => void;
}

/**
 * Subscribe `onEvent` to the engine; call `finish` at the end. Once the ending has begun the monitor and checks
 * lines give way to a short ending line (the figures no longer move), and the journal's `finished` event is
 * left to the closing line, which says the same once.
 */
export function createLineReporter(options: LineReporterOptions): LineReporter {
  const interval = options.monitorIntervalMs ?? 5000;
  const ending = endingWatch();
  let timer: TimerHandle | undefined;
  let stopped = false;
  // Once the requests in flight have drained (after the ending's hook), only the closing line is left to come.
  let drained = false;
  const schedule = () => {
    timer = options.clock.setTimer(() => {
      if (stopped) return;
      const snapshot = options.snapshot();
      const now = options.clock.now();
      if (ending.started()) {
        if (!drained) options.write(formatDrainingLine(snapshot, now));
      } else {
        options.write(formatMonitorLine(snapshot, now));
        const waiting = formatStageEndLine(snapshot, now);
        if (waiting) options.write(waiting);
        const checks = formatChecksLine(snapshot, now);
        if (checks) options.write(checks);
      }
      schedule();
    }, interval);
  };
  schedule();
  return {
    onEvent: (event) => {
      if (stopped) return;
      ending.see(event);
      if (event.type === 'drained') drained = true;
      if (event.type !== 'finished') options.write(formatEventLine(event));
    },
    finish: (summary) => {
      if (stopped) return;
      stopped = true;
      timer?.cancel();
      options.write(`bluegreen: ${endingSentence(summary)}`);
    },
  };
}

/**
 * A stage whose time is up, waiting for the requests sent in it before it is judged (up to a request's longest
 * life, which can be minutes): `stage-end        stage 2 ending: waiting for 14 requests in flight (up to 4m03s)`.
 */
export function formatStageEndLine(snapshot: RolloutSnapshot, now: number): string | undefined {
  const waiting = stageEndWaitText(snapshot, now);
  if (waiting === undefined || snapshot.stageEndWait === undefined) return undefined;
  return `${timestamp(now)} ${'stage-end'.padEnd(16)} stage ${snapshot.stageEndWait.stage + 1} ending: ${waiting}`;
}

/**
 * While the ending runs its hook and waits for requests already sent: what it is waiting for. The requests the
 * proxies serve (live traffic) are left out: the ending stops reading the proxies as it begins (one last read comes
 * after its hook), so their count is as old as the ending, and the ending does not wait for them anyway. Every
 * stage's count: the ending drains them all, and a stage before this one still has those sent while its end waited
 * (newuser32: an interrupt with none of stage 2's running said "waiting for the ending hook" of a plan with no hook,
 * stage 1's requests still running).
 */
export function formatDrainingLine(snapshot: RolloutSnapshot, now: number): string {
  const own = (arm: ArmStats | undefined) => (arm?.inFlight ?? 0) - (arm?.atProxies ?? 0);
  const inFlight = snapshot.stages.reduce((sum, stage) => sum + own(stage.arms.blue) + own(stage.arms.green), 0);
  const waiting = inFlight > 0 ? `${formatPlural(inFlight, 'request')} still in flight` : 'waiting for the ending hook to finish';
  return `${timestamp(now)} ending           ${waiting}`;
}
