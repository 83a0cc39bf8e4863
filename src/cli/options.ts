// Numeric command-line options: whole numbers written as digits, within the range the option can hold.
// Number() alone would take "1e400" (Infinity), "0x10", "" (0) and " 7"; each is refused with the flag named.
import { UsageError } from '../core/exit.js';

/** The largest seed the random source tells apart: it keeps 32 bits. */
export const MAX_SEED = 2 ** 32 - 1;

/**
 * `status --watch --interval`'s range in ms (a timer past 2^31 ms would fire at once and spin; 1 h is plenty), and
 * its default: what the help says and the parse uses.
 */
export const WATCH_INTERVAL_MS = { min: 100, max: 3_600_000, default: 1000 } as const;

/** A whole number from min to max, in plain decimal digits (a leading minus when min allows one). */
export function parseIntegerOption(text: string, flag: string, min: number, max: number): number {
  // + 0: "-0" is 0 (Number gives -0, which passes a min of 0 and prints as "-0").
  const value = /^-?\d{1,16}$/.test(text) ? Number(text) + 0 : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} expects a whole number from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

/**
 * `--state-dir DIR`: a folder name. An empty one (`--state-dir ""`, an unset shell variable) is refused rather
 * than read as "the default", which would quietly act on another rollout's folder.
 */
export function parseStateDirOption(text: string): string {
  if (text.trim() === '') {
    throw new UsageError('--state-dir expects a folder, got an empty value (leave the flag out for .bluegreen or $BLUEGREEN_STATE_DIR)');
  }
  return notAnOption('--state-dir', 'a folder', text);
}

/**
 * A file option's parser (`--report-json FILE`): commander takes whatever follows as the value, so a flag left
 * without one took the next flag as its file (`--report-json --plain` wrote a report named "--plain" and drew the
 * dashboard; `--state-dir --json` ran on a folder named "--json"). A value that looks like an option is refused.
 */
export function pathOption(flag: string, what = 'a file'): (text: string) => string {
  return (text) => notAnOption(flag, what, text);
}

function notAnOption(flag: string, what: string, text: string): string {
  if (/^-./.test(text)) throw new UsageError(`${flag} expects ${what}, got "${text}", an option (write ./${text} for one so named)`);
  return text;
}
