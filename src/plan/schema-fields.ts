// The plan schema's building blocks: durations, shares, bounded counts, names and text the plan's parts share.
// Every object is strict so a misspelt key is an error (with a "did you mean" hint), not a silent default.
import { z } from 'zod';
import { MAX_DURATION_MS, MAX_DURATION_TEXT, parseDuration } from './duration.js';
import { CONTROL_CHARACTER_RANGES } from '../core/format.js';
import { characterAt, INVISIBLE } from '../core/model-name.js';

const DURATION_HINT = 'a duration with a unit, like 500ms, 30s, 5m or 1h';

/** A duration string in the plan, milliseconds once parsed. */
/** The message of a duration that is not one (zod-problems.ts adds how to write one spelt out: `1 minute`). */
export const DURATION_MESSAGE = `expected ${DURATION_HINT}`;
export const duration = z
  .string({ error: DURATION_MESSAGE })
  .refine((text) => parseDuration(text) !== undefined, { error: DURATION_MESSAGE })
  .refine((text) => (parseDuration(text) ?? 0) <= MAX_DURATION_MS, { error: `must be at most ${MAX_DURATION_TEXT}` })
  .transform((text) => parseDuration(text) as number)
  .meta({ description: `Duration: ${DURATION_HINT}; at most ${MAX_DURATION_TEXT}`, examples: ['500ms', '30s', '5m', '1h'] });

/** A timer's period or a time limit: 0 would spin the event loop, or read as "no limit" to some clients. */
export const period = (minMs: number, text: string, why = '') => duration.refine((ms) => ms >= minMs, { error: `must be at least ${text}${why}` });
export const timeLimit = period(1, '1ms');
/** Node and nginx read a timeout of 0 as "none"; the proxy's limits have no such value. */
export const NOT_OFF = ' (0 is not "no limit": a proxy cannot wait without one, and 0 would cut every request still arriving)';

export const share = z.number({ error: 'expected a number between 0 and 1' }).min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');
const nonNegative = z.number().nonnegative('must be 0 or more');
const positiveInt = z.number().int('must be a whole number').positive('must be more than 0');
/** Counts and sizes have a ceiling far above any real use, so a typo (1e15) is an error, not a hang or a crash. */
export const atMost = (max: number) => `must be at most ${max.toLocaleString('en-US')}`;
export const countUpTo = (max: number) => positiveInt.max(max, atMost(max));
export const wholeUpTo = (max: number) => z.number().int('must be a whole number').nonnegative('must be 0 or more').max(max, atMost(max));
export const price = nonNegative.max(100_000, atMost(100_000));

export const httpUrl = z.string().refine((text) => {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}, 'expected an http:// or https:// URL');

/**
 * Text the dashboard, the log lines, the reports and CI logs print as is: a control character (an escape
 * sequence in a plan from a pull request) could garble the terminal or forge log lines.
 */
export const shownText = z
  .string()
  .regex(
    new RegExp(`^[^${CONTROL_CHARACTER_RANGES}]*$`),
    'must not hold control characters (tabs, newlines, escapes, bidirectional overrides): it is printed as is',
  );

/**
 * Names hooks get in their environment (BLUEGREEN_PLAN, BLUEGREEN_BLUE_MODEL...): Linux refuses to start a process
 * with a variable over 128 KiB (MAX_ARG_STRLEN), so a 200 KB plan name kept every hook from starting, on_rollback's
 * too. The cap is far under that, and what a dashboard line or a report heading can show.
 */
export const MAX_NAME_LENGTH = 256;
const HOOK_ENV_WHY = `: it is shown on one line and hooks get it in their environment (BLUEGREEN_PLAN...), where Linux refuses a variable over 128 KiB`;
export const hookVisibleName = shownText.max(MAX_NAME_LENGTH, `must be at most ${MAX_NAME_LENGTH} characters${HOOK_ENV_WHY}`);

/** A model name as the upstream and the proxy see it: printable, and nothing in it invisible. */
export function modelName<T extends z.ZodType<string>>(text: T) {
  return text.superRefine((name, ctx) => {
    const found = INVISIBLE.exec(name);
    if (!found) return;
    ctx.addIssue({
      code: 'custom',
      message: `must not hold invisible characters (${characterAt(name, found)}): a model name that looks like another is another model to the upstream`,
    });
  });
}

/** envName's message: a plan error with it never shows what it found (zod-problems.ts), which may be the key itself. */
export const ENV_NAME_MESSAGE = 'expected the name of an environment variable (the key itself never goes in a plan)';
export const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, ENV_NAME_MESSAGE);
