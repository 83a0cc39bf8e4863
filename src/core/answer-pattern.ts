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
  setFlagsFromString(LINEAR_FALLBACK);
  return new RegExp(source);
}

/**
 * Whether the linear-time engine cannot run the pattern (backreferences, lookaround, a count over 16 such as {1,20}):
 * answerPattern cannot bound how long it takes on an answer.
 */
export function backtracksWithoutBound(source: string): boolean {
  setFlagsFromString(LINEAR_SYNTAX);
  try {
    new RegExp(source, LINEAR);
    return false;
  } catch {
    return true;
  }
}
