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

/** A final phase recorded before its ending finished (the process died in it): what it was doing. */
const UNDER_WAY: Partial<Record<Phase, string>> = {
  rolled_back: 'rolling back',
  aborted: 'aborting',
  promoted: 'promoting',
  interrupted: 'rolling back (interrupted)',
  failed: 'ending (internal error)',
};

/** "rolling back" for a rollout that died in its rollback (state.json already said rolled_back), "progressing" mid-stage. */
export function phaseWhenDied(phase: Phase): string {
  return UNDER_WAY[phase] ?? phase.replace('_', ' ');
}

/** Events that mean the ending has begun (from here on, a failing hook or proxy leaves traffic unconfirmed), and its phase. */
const ENDING_STARTS: Partial<Record<RolloutEvent['type'], Phase>> = {
  promote_requested: 'promoted',
  abort_requested: 'aborted',
  promoted: 'promoted',
  rolled_back: 'rolled_back',
  interrupted: 'interrupted',
  failed: 'failed',
};

function isEndingStart(event: RolloutEvent): boolean {
  return ENDING_STARTS[event.type] !== undefined;
}

/**
 * The ending the journal says began in the latest run (its first line, and the phase it leads to), or undefined.
 * state.json trails the journal by a write: a rollout killed just after its ending began may still read "progressing".
 */
export function endingStarted(events: readonly RolloutEvent[]): { event: RolloutEvent; phase: Phase } | undefined {
  const since = events.findLastIndex((event) => event.type === 'rollout_started');
  const event = events.slice(Math.max(0, since)).find(isEndingStart);
  const phase = event === undefined ? undefined : ENDING_STARTS[event.type];
  return event === undefined || phase === undefined ? undefined : { event, phase };
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
