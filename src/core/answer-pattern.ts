// A plan's quality.regex runs on every answer, whose text a client's prompt steers. V8's backtracking engine takes
// exponential time on patterns as ordinary as ^(\w+\s?)+$ against an answer ending in a full stop, and a process
// stuck in one match serves nothing: a proxy stopped answering blue too, its lease timers with it.
import { setFlagsFromString } from 'node:v8';

// Process-wide V8 flags, read when a match runs: setting them again is harmless.
const LINEAR_FALLBACK = '--enable-experimental-regexp-engine-on-excessive-backtracks';
const LINEAR_SYNTAX = '--enable-experimental-regexp-engine';
// V8's flag for a pattern run by the linear-time engine alone (a SyntaxError when that engine cannot run it).
const LINEAR = 'l';

/**
 * The pattern compiled so that a match backtracking past V8's limit (50,000 backtracks) goes on in its linear-time
 * engine, with the same result. Only patterns that engine runs are covered: see backtracksWithoutBound.
 */
export function answerPattern(source: string): RegExp {
  enableLinearFallback();
  return new RegExp(source);
}

/**
 * Turns on, process-wide (worker threads included), the fallback answerPattern relies on. V8 caches a pattern's
 * compiled code by its source, and code run before the flag keeps backtracking without bound: a `new RegExp(source)`
 * run before answerPattern(source) made its matches hang (review36b). The CLI calls this first thing (cli/main.ts),
 * before any plan is read; answerPattern calls it too, for library and test use.
 */
export function enableLinearFallback(): void {
  setFlagsFromString(LINEAR_FALLBACK);
}

/**
 * Whether answerPattern cannot bound how long the pattern takes on an answer and the pattern has what makes a
 * backtracking engine take exponential time (mayBacktrackExponentially). The linear-time engine cannot run a
 * backreference, a lookaround or a count over 16; a pattern whose only such obstacle is a count on a plain atom or
 * class (\d{17}, ^.{1,500}$) backtracks, but only in proportion to the answer times the count.
 */
export function backtracksWithoutBound(source: string): boolean {
  return !runsInLinearTime(source) && mayBacktrackExponentially(source);
}

function runsInLinearTime(source: string): boolean {
  setFlagsFromString(LINEAR_SYNTAX);
  try {
    new RegExp(source, LINEAR);
    return true;
  } catch {
    return false;
  }
}

// A count or a one-character quantifier, read as V8 reads a pattern without the u flag ({ not followed by a count
// is a literal brace).
const QUANTIFIER = /^(?:[*+?]|\{(\d+)(,(\d*))?\})/;

/**
 * Whether the pattern has a backreference, a lookaround, or a group repeated by a quantifier that holds a quantifier
 * itself ((\w+\s?)+, (\d{3},?){2,}): the shapes whose matches a backtracking engine can try exponentially many
 * ways. A rough scan of the source, not a parser: it errs towards yes (a \1 read as a backreference).
 */
function mayBacktrackExponentially(source: string): boolean {
  const open: boolean[] = []; // per open group: whether it holds a quantifier
  let afterGroupHolding = false; // the atom just read is a group holding a quantifier
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const char = source[i];
    let groupHolding = false;
    if (char === '\\') {
      const next = source[i + 1] ?? '';
      if (!inClass && (/[1-9]/.test(next) || source.startsWith('k<', i + 1))) return true;
      i++;
    } else if (inClass) {
      inClass = char !== ']';
    } else if (char === '[') {
      inClass = true;
    } else if (char === '(') {
      if (/^\(\?<?[=!]/.test(source.slice(i, i + 4))) return true;
      // (?: and (?<name> open a group: their ? is no quantifier.
      if (source[i + 1] === '?') i = source[i + 2] === '<' ? Math.max(source.indexOf('>', i), i + 2) : i + 2;
      open.push(false);
    } else if (char === ')') {
      groupHolding = open.pop() ?? false;
      if (groupHolding && open.length > 0) open[open.length - 1] = true;
    } else {
      const quantifier = QUANTIFIER.exec(source.slice(i));
      if (quantifier !== null) {
        const [text, min, comma, max] = quantifier;
        const repeats = min === undefined ? text !== '?' : comma === undefined ? Number(min) > 1 : max === '' || Number(max) > 1;
        if (repeats && afterGroupHolding) return true;
        if (open.length > 0) open[open.length - 1] = true;
        i += text.length - 1;
        if (source[i + 1] === '?') i++; // lazy: the same quantifier
      }
    }
    afterGroupHolding = groupHolding;
  }
  return false;
}
