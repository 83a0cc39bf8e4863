// How a rollout ended, in one sentence that says each thing once: the plain reporter's closing line.
import type { RolloutEvent } from '../engine/types.js';
import type { Phase } from '../engine/types.js';
import { EXIT } from '../core/exit.js';
import { isUnconfirmed } from '../engine/endings.js';

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
 * rolled back to blue". The engine's reason already says when the ending's moves failed (afterMoves): then a
 * rollback reads "rolled back", not "rolled back to blue".
 */
export function endingSentence(ending: EndingSummary): string {
  const unconfirmed = isUnconfirmed(ending.reason);
  // A failure that is no bug of ours (its record could not be written: exit 2) is not called an internal error.
  const lead =
    ending.phase === 'failed' && ending.exitCode !== EXIT.internal
      ? 'stopped'
      : ending.phase === 'rolled_back' && unconfirmed
        ? 'rolled back'
        : (LEADS[ending.phase] ?? ending.phase.replace('_', ' '));
  const reason = ending.reason?.trim();
  const what = !reason ? lead : reason.startsWith(lead) ? reason : `${lead}: ${reason}`;
  return `exit ${ending.exitCode} — ${what}`;
}

/** Watches the events for the start of the ending: from then on the figures no longer move. */
export function endingWatch(): { see(event: RolloutEvent): void; started(): boolean } {
  let started = false;
  return {
    see(event) {
      if (isEndingStart(event)) started = true;
    },
    started: () => started,
  };
}
