// What a key press means on the dashboard: a small state machine (with y/n confirmations), no I/O.
import type { Phase } from '../../engine/types.js';

/** control: the rollout's own dashboard; watch: `status --watch`, read-only. */
export type DashboardMode = 'control' | 'watch';

/** interrupt: Ctrl-C (the rollout's SIGINT path, exit 130); quit: stop watching (watch mode only). */
export type DashboardCommand = 'pause' | 'resume' | 'promote' | 'abort' | 'interrupt' | 'quit';

export type Prompt = 'promote' | 'quit';

export interface KeyState {
  /** A question waiting for y/n. */
  prompt?: Prompt;
  /**
   * A short acknowledgement shown for a few seconds. `at` is a steady reading (steadyNow): on the wall clock a step
   * back kept the notice on screen for the hour, a step forward took it off at once.
   */
  notice?: { text: string; at: number; phase?: Phase };
}

export interface KeyPress {
  input: string;
  ctrl?: boolean;
  escape?: boolean;
}

export interface KeyResult {
  state: KeyState;
  command?: DashboardCommand;
}

export const NOTICE_MS = 4000;

const CONTROL_KEYS: Record<string, { command?: DashboardCommand; prompt?: Prompt; notice: string }> = {
  p: { command: 'pause', notice: 'pause requested' },
  r: { command: 'resume', notice: 'resume requested' },
  P: { prompt: 'promote', notice: '' },
  a: { command: 'abort', notice: 'abort requested: rolling back to blue' },
  q: { prompt: 'quit', notice: '' },
};

const CONFIRMED: Record<Prompt, { command: DashboardCommand; notice: string }> = {
  promote: { command: 'promote', notice: 'promotion requested: green to 100%' },
  quit: { command: 'abort', notice: 'abort requested: rolling back to blue' },
};

/**
 * `now`: the steady clock's reading (steadyNow). `ending`: the rollout is already ending (its hook may take a while), so
 * nothing is left to pause, promote or abort. `phase`: the rollout's as the key was pressed: a command's notice stands
 * until the phase changes (the header then says it: PAUSED), not its whole NOTICE_MS.
 */
export function handleKey(state: KeyState, press: KeyPress, mode: DashboardMode, now: number, ending = false, phase?: Phase): KeyResult {
  const result = pressed(state, press, mode, now, ending);
  const { notice } = result.state;
  if (result.command === undefined || notice === undefined || phase === undefined) return result;
  return { ...result, state: { ...result.state, notice: { ...notice, phase } } };
}

function pressed(state: KeyState, press: KeyPress, mode: DashboardMode, now: number, ending: boolean): KeyResult {
  if (press.ctrl && press.input === 'c') {
    // Once ending, Ctrl-C stops only the wait for requests in flight (stop-signals.ts says the rest on stderr).
    const text = ending ? 'ending: in-flight wait skipped' : 'interrupted (ctrl-c)';
    return { state: { notice: { text, at: now } }, command: 'interrupt' };
  }
  if (mode === 'watch') return press.input === 'q' ? { state, command: 'quit' } : { state };
  if (ending) return CONTROL_KEYS[press.input] || state.prompt ? { state: { notice: { text: 'already ending: no key changes it now', at: now } } } : { state };
  if (state.prompt) {
    if (press.input === 'y' || press.input === 'Y') {
      const confirmed = CONFIRMED[state.prompt];
      return { state: { notice: { text: confirmed.notice, at: now } }, command: confirmed.command };
    }
    if (press.input === 'n' || press.input === 'N' || press.escape) {
      const what = state.prompt === 'promote' ? 'promotion' : 'quit';
      return { state: { notice: { text: `${what} cancelled`, at: now } } };
    }
    return { state };
  }
  const binding = CONTROL_KEYS[press.input];
  if (!binding) return { state };
  if (binding.prompt) return { state: { prompt: binding.prompt } };
  return { state: { notice: { text: binding.notice, at: now } }, command: binding.command };
}

/**
 * The notice still worth showing at `now` (the steady clock's reading, as the notice's `at`), if any: not once the
 * rollout's `phase` moved on from the one its command was given in ("pause requested" beside PAUSED lingered ~2 s
 * after the pause took effect: session 35's user test).
 */
export function activeNotice(state: KeyState, now: number, phase?: Phase): string | undefined {
  if (!state.notice || now - state.notice.at > NOTICE_MS) return undefined;
  if (state.notice.phase !== undefined && phase !== undefined && phase !== state.notice.phase) return undefined;
  return state.notice.text;
}
