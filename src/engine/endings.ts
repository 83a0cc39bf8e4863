// The ways a rollout ends: phase, exit code (from the one table in core/exit), the hook to run, the verdict
// left on the stage that was running, and the sentence that says why.
import type { Breach } from '../analysis/types.js';
import { EXIT } from '../core/exit.js';
import type { StageVerdict } from '../metrics/types.js';
import type { HookEventName } from './deps.js';
import type { Phase, RolloutSnapshot } from './types.js';
import type { Unjudged } from './unjudged.js';

export interface Ending {
  phase: Phase;
  exitCode: number;
  reason: string;
  /** The hook that puts traffic where the ending leaves it. */
  hook: EndingHook;
  verdict: StageVerdict;
  breach?: Breach;
  /** False when traffic already is where the ending leaves it: no actuator moves and no hook runs. */
  moves?: boolean;
}

export type EndingHook = Exclude<HookEventName, 'stage'>;

export type InterruptSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

const INTERRUPT_EXIT: Record<InterruptSignal, number> = { SIGHUP: EXIT.sighup, SIGINT: EXIT.sigint, SIGTERM: EXIT.sigterm };

export const endings = {
  promotedByOperator: (actor: string): Ending => ({
    phase: 'promoted',
    exitCode: EXIT.promoted,
    reason: `promoted to 100% green by ${actor}`,
    hook: 'promote',
    verdict: 'skipped',
  }),
  /** `unjudged`: the stages that passed with nothing of green judged in them (green under min_requests, or failing every request). */
  allStagesPassed: (stages: number, greenModel: string, unjudged: readonly Unjudged[] = []): Ending => ({
    phase: 'promoted',
    exitCode: EXIT.promoted,
    reason: `all ${stages} stages passed${unjudgedNote(stages, unjudged)}; ${greenModel} takes 100% of traffic`,
    hook: 'promote',
    verdict: 'passed',
  }),
  /** A re-run that found green already promoted: traffic stays on green, nothing is moved or run again. */
  alreadyPromoted: (reason: string): Ending => ({
    phase: 'promoted',
    exitCode: EXIT.promoted,
    reason,
    hook: 'promote',
    verdict: 'skipped',
    moves: false,
  }),
  aborted: (actor: string): Ending => ({
    phase: 'aborted',
    exitCode: EXIT.aborted,
    reason: `aborted by ${actor}; traffic is back on blue`,
    hook: 'abort',
    verdict: 'aborted',
  }),
  /** `cause` names where the stop came from when it was not a signal to this process ("its launcher sh (pid 12) exiting"). */
  interrupted: (signal: InterruptSignal, cause: string = signal): Ending => ({
    phase: 'interrupted',
    exitCode: INTERRUPT_EXIT[signal],
    reason: `interrupted by ${cause}; rolled back to blue`,
    hook: 'rollback',
    verdict: 'aborted',
  }),
  rolledBack: (breach: Breach): Ending => ({
    phase: 'rolled_back',
    exitCode: EXIT.rolledBack,
    reason: breach.message,
    hook: 'rollback',
    verdict: 'failed',
    breach,
  }),
  /** A proxy refused the promotion or did not answer (see EndingMoves.promotionDeclined). */
  promotionDeclined: (what: string, rule: 'hook' | 'proxy_unreachable'): Ending =>
    endings.rolledBack({ rule, figure: null, limit: 0, unit: 'count', sample: 0, message: `${what}; rolling every proxy back` }),
  /**
   * state.json could not be written before the first stage: a rollout never runs without a record to recover
   * from. A fresh one moved nothing (no hook runs); a resumed one puts traffic back on blue.
   */
  unrecorded: (message: string, resumed: boolean): Ending => ({
    phase: 'failed',
    exitCode: EXIT.usage,
    reason: `state.json could not be written (${message}): a rollout does not run without a record to recover from; ${resumed ? 'rolled back to blue' : 'nothing was moved'}`,
    hook: 'rollback',
    verdict: 'aborted',
    moves: resumed,
  }),
  failed: (message: string): Ending => ({
    phase: 'failed',
    exitCode: EXIT.internal,
    reason: `internal error: ${message}`,
    hook: 'rollback',
    verdict: 'aborted',
  }),
};

/** The tail of an ending's reason that says where traffic now is: true only once the ending's moves worked. */
const TRAFFIC_CLAIM = /;\s*(rolled back to blue|traffic is back on blue|\S+ takes 100% of traffic)$/;
/** What an unconfirmed ending's reason says: see unconfirmedText. */
const CHECK_BY_HAND = ': check by hand that ';
/** An unconfirmed ending's failed move to blue (unconfirmedText), which `bluegreen rollback` tries again. */
const BLUE_MOVE_FAILED = 'putting traffic back on blue failed';
const TO_BLUE_FAILED = `, but ${BLUE_MOVE_FAILED} (`;

/**
 * The ending's event as it begins, its moves still to come: "aborted by bob; returning traffic to blue", not yet
 * "traffic is back on blue" (the `finished` line says that once the moves worked).
 */
export function endingStartMessage(ending: Ending): string {
  const message = endingEventMessage(ending);
  return ending.moves === false ? message : claimPending(message, ending.phase);
}

/** `text` with its claim about where traffic is put as still to come: "; returning traffic to blue". */
export function claimPending(text: string, phase: Phase): string {
  return text.replace(TRAFFIC_CLAIM, phase === 'promoted' ? '; moving all traffic to green' : '; returning traffic to blue');
}

/**
 * The ending once its moves are done: as it was when every move worked; otherwise its claim about where traffic is
 * gives way to which moves failed (`failures`), and which proxies kept green because another rollout promoted it
 * there and reported it done (`promotedElsewhere`, never moved to blue by an ending: the proxy's 409), so the
 * journal's `finished` line, state.json and the reports say the same truth.
 */
export function afterMoves(ending: Ending, failures: readonly MoveFailure[], promotedElsewhere: readonly string[] = []): Ending {
  if (failures.length === 0 && promotedElsewhere.length === 0) return ending;
  return { ...ending, reason: `${ending.reason.replace(TRAFFIC_CLAIM, '').trim()}${unconfirmedText(ending.phase, failures, promotedElsewhere)}` };
}

/**
 * A move that failed, as its journal line says it ("on_rollback hook: exited 1"), or a proxy not told blue and left
 * to its lease (ActuationResult.leftToLease): what failed, and apart from it what is known of where it goes.
 */
export type MoveFailure = string | { label: string; error: string; lease: string };

/**
 * ", but putting traffic back on blue failed (on_rollback hook: ...): check by hand that traffic is on blue"; for
 * proxies left to their lease alone, which ones to check, and that their lease returns them to blue (proxyCheck); for
 * a proxy another rollout promoted, ", but 1 proxy still serves green, promoted there by another rollout that reported
 * it done (...): check by hand that green should serve there (...)": that green is no failure to undo blindly.
 */
function unconfirmedText(phase: Phase, failures: readonly MoveFailure[], promotedElsewhere: readonly string[]): string {
  const promoted = phase === 'promoted';
  const move = promoted ? 'moving all traffic to green failed' : BLUE_MOVE_FAILED;
  const alone = promotedElsewhere.length === 0;
  // Beside another rollout's promotion the words stay whole in the parentheses (confirmedReason reads what follows).
  const said = (failure: MoveFailure) => (typeof failure === 'string' ? failure : `${failure.label}: ${failure.error}${alone ? '' : `; it ${failure.lease}`}`);
  const failed = failures.length > 0 ? `${move} (${failures.map(said).join('; ')})` : undefined;
  if (alone) return `, but ${failed}${CHECK_BY_HAND}${promoted ? 'green serves all traffic' : proxyCheck(failures)}`;
  const count = promotedElsewhere.length;
  const kept = `${count === 1 ? '1 proxy still serves' : `${count} proxies still serve`} green, promoted there by another rollout that reported it done (${promotedElsewhere.join('; ')})`;
  const check = `green should serve there (else an operator's PUT /admin/route puts ${count === 1 ? 'it' : 'them'} on blue)`;
  return failed === undefined
    ? `, but ${kept}${CHECK_BY_HAND}${check}`
    : `, but ${failed}, and ${kept}${CHECK_BY_HAND}traffic is on blue elsewhere, and that ${check}`;
}

/**
 * What to check of an ending on blue whose moves failed: "traffic is on blue", or, when every failure is a proxy left
 * to its lease, those proxies ("proxy URL serves blue (GET /admin/route)"); then what is known of each such proxy.
 * Said together, "failed (...: it serves blue on its own)" read as a contradiction (session 35's user test).
 */
function proxyCheck(failures: readonly MoveFailure[]): string {
  const leased = failures.filter((failure) => typeof failure !== 'string');
  if (leased.length === 0) return 'traffic is on blue';
  const only = leased.length === failures.length;
  const one = only && leased.length === 1;
  const labels = leased.map((failure) => failure.label);
  const what = !only
    ? 'traffic is on blue'
    : one
      ? `${labels[0]} serves blue (GET /admin/route)`
      : `${labels.slice(0, -1).join(', ')} and ${labels.at(-1)} serve blue (GET /admin/route on each)`;
  return `${what}; ${leased.map((failure) => `${one ? 'it' : failure.label} ${failure.lease}`).join('; ')}`;
}

/** Whether a reason says its ending's moves failed (afterMoves). */
export function isUnconfirmed(reason: string | undefined): boolean {
  return reason?.includes(CHECK_BY_HAND) === true;
}

/**
 * Whether an ending that leaves traffic on blue says its move there failed (a hook, a proxy): `bluegreen rollback`
 * tries that move again. Not a promotion (its outcome is green), nor a proxy only kept by another rollout's promotion.
 */
export function blueUnconfirmed(phase: Phase, reason: string | undefined): boolean {
  return phase !== 'promoted' && isUnconfirmed(reason) && reason?.includes(TO_BLUE_FAILED) === true;
}

/** "on_rollback hook: ... exited 1", what failed in a blueUnconfirmed reason's move to blue; undefined in another reason. */
export function blueMoveFailure(reason: string): string | undefined {
  const at = reason.indexOf(TO_BLUE_FAILED);
  if (at < 0) return undefined;
  return reason.slice(at + TO_BLUE_FAILED.length).replace(/\)(?:, and \d+ prox.*|: check by hand that .*)$/, '');
}

/**
 * A blueUnconfirmed reason once `moved` ("traffic put back on blue by bob (bluegreen rollback)") did what its
 * ending could not: its failure gives way to that, but a proxy kept by another rollout's promotion is still said,
 * with what to check by hand.
 */
export function confirmedReason(reason: string, moved: string): string {
  const failure = blueMoveFailure(reason);
  if (failure === undefined) return reason;
  const at = reason.indexOf(TO_BLUE_FAILED);
  const kept =
    /, and (\d+ prox(?:y still serves|ies still serve) green, promoted there by .*): check by hand that traffic is on blue elsewhere, and that (.*)$/.exec(
      reason.slice(at),
    );
  const done = `${reason.slice(0, at)}; ${moved}, after the ending's own move had failed (${failure})`;
  return kept === null ? done : `${done}, but ${kept[1]}${CHECK_BY_HAND}${kept[2]}`;
}

/**
 * Whether an ended rollout's recorded greenWeight is only what its ending meant to set: its moves failed (isUnconfirmed),
 * so traffic may be elsewhere. `status` says so (`greenWeightUnconfirmed` in --json).
 */
export function weightUnconfirmed(snapshot: Pick<RolloutSnapshot, 'endedAt' | 'reason'>): boolean {
  return snapshot.endedAt !== undefined && isUnconfirmed(snapshot.reason);
}

/** "rolled back, exit 10": how an ended rollout's record says it ended. */
export function endedText(snapshot: Pick<RolloutSnapshot, 'phase' | 'exitCode'>): string {
  return `${snapshot.phase.replace('_', ' ')}${snapshot.exitCode === undefined ? '' : `, exit ${snapshot.exitCode}`}`;
}

/** "promoted: all 5 stages passed; ...", but "aborted by alice; traffic is back on blue" as it stands: the phase once. */
export function endingEventMessage(ending: Ending): string {
  const word = ending.phase.replace('_', ' ');
  return ending.reason.startsWith(word) ? ending.reason : `${word}: ${ending.reason}`;
}

/** The journal's last line: "rolled back: green error_rate ... (exit 10)", "interrupted by SIGINT; rolled back to blue (exit 130)". */
export function finalMessage(ending: Ending): string {
  return `${endingEventMessage(ending)} (exit ${ending.exitCode})`;
}

/**
 * ", though nothing was judged in stages 1, 2 (...)": a promotion on too little traffic, or on green's failures
 * alone, must not read as a clean pass.
 */
function unjudgedNote(stages: number, unjudged: readonly Unjudged[]): string {
  if (unjudged.length === 0) return '';
  const numbers = unjudged.map((stage) => stage.stage);
  const which = unjudged.length === stages ? 'any stage' : `${unjudged.length === 1 ? 'stage' : 'stages'} ${numbers.join(', ')}`;
  const green: string[] = [];
  if (unjudged.some((stage) => stage.kind === 'few' && stage.arm === 'green')) green.push('fewer requests than analysis.min_requests');
  const failed = unjudged.filter((stage) => stage.kind === 'failed');
  if (failed.length > 0) green.push(failed.every((stage) => stage.successes === 0) ? 'none successfully' : 'fewer than analysis.min_requests successfully');
  const why = green.length > 0 ? [`green answered ${green.join(', or ')}`] : [];
  if (unjudged.some((stage) => stage.kind === 'few' && stage.arm === 'blue'))
    why.push('blue answered fewer requests than analysis.min_requests to judge green against');
  return `, though nothing was judged in ${which} (${why.join('; ')})`;
}
