// The bottom of the dashboard: key hints, a y/n question, the watcher's status, or the outcome and its exit code.
import { isUnconfirmed } from '../../engine/endings.js';
import type { RolloutSnapshot } from '../../engine/types.js';
import { formatDuration } from '../../core/format.js';
import { textWidth } from '../text-width.js';
import { wrap, wrapsWhole } from '../wrap.js';
import { quotesCut } from '../whole-sample.js';
import { isFinalPhase, PHASE_LABELS } from './header-lines.js';
import { activeNotice } from './keys.js';
import type { Tone } from './theme.js';
import type { ViewOptions } from './view-model.js';
import { clip, lineText, type Line, type Segment } from './view-types.js';

const CONTROL_HINTS: Record<'progressing' | 'paused', [string, string][]> = {
  progressing: [
    ['p', 'pause'],
    ['P', 'promote'],
    ['a', 'abort'],
    ['q', 'quit'],
    ['ctrl-c', 'interrupt'],
  ],
  paused: [
    ['r', 'resume'],
    ['P', 'promote'],
    ['a', 'abort'],
    ['q', 'quit'],
    ['ctrl-c', 'interrupt'],
  ],
};

/** The ending's reason: at most two lines under the outcome, indented. */
const REASON_LINES = 2;
const REASON_INDENT = '  ';
/** The keys-off line, broken between words when the terminal is narrow (a long --state-dir takes a third). */
const KEYS_OFF_LINES = 3;
/** The pointer to the whole reason: its command on a second line when the terminal is too narrow for it. */
const POINTER_LINES = 2;

const PROMPTS = {
  promote: 'Promote now: green to 100% and finish? [y/n]',
  quit: 'Quit: abort the rollout and roll back to blue? [y/n]',
};

/** Whether the footer shows the ending: its outcome, exit code and reason (the rollout's last frame, or a watcher's). */
function showsEnding(snapshot: RolloutSnapshot, options: ViewOptions): boolean {
  return options.final !== undefined || (options.mode === 'watch' && isFinalPhase(snapshot.phase) && snapshot.exitCode !== undefined);
}

/** The reason the footer's ending gives, when it shows one. */
export function endingReason(snapshot: RolloutSnapshot, options: ViewOptions): string | undefined {
  return showsEnding(snapshot, options) ? (options.final?.reason ?? snapshot.reason) : undefined;
}

export function footerLines(snapshot: RolloutSnapshot, options: ViewOptions, width: number): Line[] {
  const notice = activeNotice(options.keys, options.steadyNow, snapshot.phase);
  if (showsEnding(snapshot, options)) return finalLines(snapshot, options, width);
  let line: Line;
  const above: Line[] = [];
  if (options.mode === 'watch') {
    const owner = options.watch?.ownerAlive === false ? `owner pid ${snapshot.pid} is gone · ` : '';
    const age = formatDuration(Math.max(0, options.now - snapshot.updatedAt));
    const state: Segment = { text: `read-only · ${owner}updated ${age} ago`, tone: options.watch?.ownerAlive === false ? 'bad' : 'muted' };
    line = [
      { text: options.keysEnabled === false ? 'ctrl-c' : 'q', tone: 'key' },
      { text: ' stop watching', tone: 'muted' },
    ];
    // Too narrow for both (a dead owner's at 60 columns read "q st…"): the key goes on a line of its own.
    if (textWidth(`${state.text} · ${lineText(line)}`) > width) above.push(clip([state], width));
    else line.unshift({ ...state, text: `${state.text} · ` });
  } else if (options.keysEnabled === false && !isFinalPhase(snapshot.phase)) {
    // Broken between words: cut at 60 columns it read "use bluegreen pause|res…", the commands it is there to give.
    const text = `keys off (stdin is not a terminal): use bluegreen pause|resume|promote|abort${options.stateDirFlag ?? ''}`;
    return wrap(text, width, KEYS_OFF_LINES).map((part) => [{ text: part, tone: 'muted' }]);
  } else if (options.keys.prompt) {
    line = [{ text: PROMPTS[options.keys.prompt], tone: 'warn' }];
  } else if (isFinalPhase(snapshot.phase)) {
    line = [{ text: `${PHASE_LABELS[snapshot.phase].text.toLowerCase()}: finishing in-flight requests…`, tone: PHASE_LABELS[snapshot.phase].tone }];
  } else {
    line = [];
    for (const [key, label] of CONTROL_HINTS[snapshot.phase === 'paused' ? 'paused' : 'progressing']) {
      line.push({ text: key, tone: 'key' }, { text: ` ${label}   `, tone: 'muted' });
    }
  }
  if (notice && !options.keys.prompt) {
    // Beside the hints when both fit; else alone for its few seconds: at 80 columns the hints left "promotion cancel…".
    const fits = textWidth(`${lineText(line)}  ${notice}`) <= width;
    line = fits ? [...line, { text: `  ${notice}`, tone: 'accent' }] : [{ text: notice, tone: 'accent' }];
  }
  return [...above, clip(line, width)];
}

function finalLines(snapshot: RolloutSnapshot, options: ViewOptions, tableWidth: number): Line[] {
  // The reason is a sentence, like the events above it: it takes the terminal's whole width, not the table's.
  const width = Math.max(tableWidth, options.columns);
  const exitCode = options.final?.exitCode ?? snapshot.exitCode ?? 1;
  const reason = endingReason(snapshot, options);
  const phase = PHASE_LABELS[snapshot.phase];
  const tone: Tone = exitCode === 0 ? 'ok' : phase.tone === 'muted' ? 'bad' : phase.tone;
  const shown = reason ? wrap(reason, width - REASON_INDENT.length, REASON_LINES) : [];
  // The phase word says what happened and the reason says why: the code alone, so nothing is said twice.
  const outcome: Line = [
    { text: `■ ${phase.text}`, tone },
    { text: ` · exit ${exitCode}`, tone: 'title' },
  ];
  // Two lines of an 80-column terminal cut a breach's upstream message short, and the reason itself quotes it cut
  // at 120 characters (whole in `status`, whole-sample.ts): say where it is whole, with the command whole too
  // (beside the outcome, or under the reason when a --state-dir makes it too long for that).
  const whole = `the whole reason: bluegreen status${options.stateDirFlag ?? ''}`;
  const cut = reason !== undefined && (!wrapsWhole(reason, width - REASON_INDENT.length, REASON_LINES) || quotesCut(reason));
  const besideOutcome = cut && textWidth(`${lineText(outcome)} · ${whole}`) <= width;
  if (besideOutcome) outcome.push({ text: ` · ${whole}`, tone: 'muted' });
  const lines: Line[] = [outcome];
  // A reason that says the ending's hook failed to move traffic (check by hand) stands out.
  const reasonTone: Tone | undefined = isUnconfirmed(reason) ? 'bad' : undefined;
  for (const text of shown) lines.push([{ text: `${REASON_INDENT}${text}`, ...(reasonTone && { tone: reasonTone }) }]);
  // Under the reason, the command breaks between words rather than lose its folder: cut, it cannot be pasted.
  if (cut && !besideOutcome)
    for (const text of wrap(whole, width - REASON_INDENT.length, POINTER_LINES)) lines.push([{ text: `${REASON_INDENT}${text}`, tone: 'muted' }]);
  return lines.map((line) => clip(line, width));
}
