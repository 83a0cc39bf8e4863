// How a rollout ended, in one sentence that says each thing once: the plain reporter's closing line.
import type { RolloutEvent } from '../engine/types.js';
import type { Phase } from '../engine/types.js';
import { EXIT } from '../core/exit.js';

export interface EndingSummary {
  phase: Phase;
  exitCode: number;
  reason?: string;
}

/** What the ending did with traffic, put before a reason that does not already say it. */
const LEADS: Partial<Record<Phase, string>> = {
  promoted: 'promoted',
  rolled_back: 'rolled back to blue',
  aborted: 'aborted',
  interrupted: 'interrupted',
  failed: 'internal error',
};

/** Events that mean the ending has begun: from here on, a failing hook or proxy leaves traffic unconfirmed. */
const ENDING_STARTS = new Set<RolloutEvent['type']>(['promote_requested', 'abort_requested', 'promoted', 'rolled_back', 'interrupted', 'failed']);

export function isEndingStart(event: RolloutEvent): boolean {
  return ENDING_STARTS.has(event.type);
}

/**
 * "exit 10 — rolled back to blue: green error_rate 22.6% ... > 5.0% ...", "exit 130 — interrupted by SIGINT;
 * rolled back to blue". `unconfirmed` are the messages of the hooks or proxies that failed to put traffic where
 * the ending leaves it: then the sentence says so instead of letting "back on blue" stand alone.
 */
export function endingSentence(ending: EndingSummary, unconfirmed: readonly string[] = []): string {
  // A failure that is no bug of ours (its record could not be written: exit 2) is not called an internal error.
  const lead = ending.phase === 'failed' && ending.exitCode !== EXIT.internal ? 'stopped' : (LEADS[ending.phase] ?? ending.phase.replace('_', ' '));
  // A claim about where traffic is stands only when the moves behind it worked.
  const reason = unconfirmed.length ? ending.reason?.replace(TRAFFIC_CLAIM, '').trim() : ending.reason?.trim();
  const what = !reason ? lead : reason.startsWith(lead) ? reason : `${lead}: ${reason}`;
  return `exit ${ending.exitCode} — ${what}${unconfirmedText(ending.phase, unconfirmed)}`;
}

/** The tail of an ending's reason that says where traffic now is. */
const TRAFFIC_CLAIM = /;\s*(rolled back to blue|traffic is back on blue|\S+ takes 100% of traffic)$/;

/** ", but putting traffic back on blue failed (on_rollback hook: ...): check by hand that traffic is on blue". */
export function unconfirmedText(phase: Phase, unconfirmed: readonly string[]): string {
  if (unconfirmed.length === 0) return '';
  const promoted = phase === 'promoted';
  const move = promoted ? 'moving all traffic to green' : 'putting traffic back on blue';
  return `, but ${move} failed (${unconfirmed.join('; ')}): check by hand that ${promoted ? 'green serves all traffic' : 'traffic is on blue'}`;
}

/** From a finished rollout's recent events: "putting traffic back on blue failed (...): check by hand ...", if it did. */
export function unconfirmedWarning(snapshot: { phase: Phase; recentEvents: readonly RolloutEvent[] }): string | undefined {
  const ending = endingWatch();
  for (const event of snapshot.recentEvents) ending.see(event);
  return unconfirmedText(snapshot.phase, ending.unconfirmed()).replace(/^, but /, '') || undefined;
}

/** Watches the events for the ending and the ending moves that failed (hook_failed once the ending began). */
export function endingWatch(): { see(event: RolloutEvent): void; started(): boolean; unconfirmed(): string[] } {
  let started = false;
  const failures: string[] = [];
  return {
    see(event) {
      if (isEndingStart(event)) started = true;
      else if (started && event.type === 'hook_failed') failures.push(event.message);
    },
    started: () => started,
    unconfirmed: () => [...failures],
  };
}
