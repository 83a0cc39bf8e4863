// Quality checks on successful responses. Failed requests are errors, judged elsewhere, never quality failures.
import type { QualityRules } from '../plan/schema.js';
import type { UpstreamResult } from '../upstream/types.js';
import { shorten } from '../upstream/classify.js';
import { answerPattern } from '../core/answer-pattern.js';

export interface QualityOutcome {
  ok: boolean;
  /** Why it failed, one short phrase; never echoes the content. */
  reason?: string;
}

export type QualityChecker = (result: UpstreamResult) => QualityOutcome;

// Shared and frozen: the common answer costs no allocation on the hot path.
const PASS: QualityOutcome = Object.freeze({ ok: true });

/**
 * Builds a checker for the plan's quality rules, compiling the regex once. Rules run cheapest first and
 * the first failure is the reason. Content length is measured after trimming, in UTF-16 code units.
 *
 * Empty (or whitespace-only) content fails only when a rule needs content: min_content_length > 0,
 * json, or a non-empty contains. finish_reasons alone accepts an empty reply; a regex is tested as is
 * (so a regex that matches the empty string accepts it too).
 */
export function createQualityChecker(rules: QualityRules | undefined): QualityChecker {
  if (!rules) return () => PASS;
  const minLength = rules.min_content_length ?? 0;
  const needles = needlesOf(rules);
  const pattern = rules.regex !== undefined ? answerPattern(rules.regex) : undefined;
  const finishReasons = rules.finish_reasons ? new Set(rules.finish_reasons) : undefined;
  const json = rules.json === true;
  const needsContent = minLength > 0 || json || needles.some((needle) => needle.length > 0);
  const checkToolCallText = rules.tool_calls === 'check';
  const refusalsFail = rules.refusals !== 'pass';

  return (result) => {
    if (!result.ok) return PASS;
    if (result.refusal && refusalsFail) return fail('the model refused');
    // finish_reasons may name the upstream's own reason (end_turn) or the normalised one (stop).
    const finishAccepted = (r: UpstreamResult) =>
      (r.finishReason !== undefined && finishReasons?.has(r.finishReason)) || (r.finish !== undefined && finishReasons?.has(r.finish));
    // A reply that calls tools is a success whose text may rightly be empty (and whose finish reason is
    // tool_calls): it is checked only when the plan asks (quality.tool_calls: check).
    if (result.toolCalls && !checkToolCallText) return PASS;
    const content = result.content;
    const length = needsContent ? content.trim().length : content.length;
    if (needsContent && length === 0) return fail('empty content');
    if (finishReasons && !finishAccepted(result)) {
      // The upstream's own words: on one short line without escapes, as its error messages are (shorten).
      const got = result.finishReason === undefined ? 'no finish reason' : `finish reason "${shorten(result.finishReason)}"`;
      return fail(`${got}, expected one of ${[...finishReasons].join(', ')}`);
    }
    if (length < minLength) return fail(`content is ${length} characters, under min_content_length ${minLength}`);
    for (const needle of needles) {
      if (!content.includes(needle)) return fail(`content does not contain ${JSON.stringify(needle)}`);
    }
    if (pattern && !pattern.test(content)) return fail(`content does not match regex /${pattern.source}/`);
    if (json && !parsesAsJson(content)) return fail('content is not valid JSON');
    return PASS;
  };
}

/**
 * The quality rules as one canonical line, defaults spelled out: what a proxy checks answers by, compared with a
 * rollout's plan. A proxy judges quality with its own plan's rules (its results carry the outcome, not the text),
 * so a rollout whose plan was edited since the proxy started would otherwise report rules it never applied.
 * No block at all is "none": then nothing is checked, refusals included.
 */
export function qualityRulesKey(rules: QualityRules | undefined): string {
  if (!rules) return 'none';
  return JSON.stringify({
    min_content_length: rules.min_content_length ?? 0,
    json: rules.json === true,
    contains: needlesOf(rules).filter((needle) => needle.length > 0),
    regex: rules.regex ?? null,
    finish_reasons: rules.finish_reasons ? [...rules.finish_reasons].sort() : null,
    tool_calls: rules.tool_calls ?? 'pass',
    refusals: rules.refusals ?? 'fail',
  });
}

/** One-off check; builds the checker each call, so prefer createQualityChecker on a hot path. */
export function checkQuality(result: UpstreamResult, rules: QualityRules | undefined): QualityOutcome {
  return createQualityChecker(rules)(result);
}

/** Any JSON value counts (an object, an array, a number...), inside a ```json fence or not. */
export function parsesAsJson(content: string): boolean {
  try {
    JSON.parse(fencedBody(content) ?? content);
    return true;
  } catch {
    return false;
  }
}

/**
 * What a Markdown fence around the whole content holds (a model asked for JSON often wraps it in one; ```json, any
 * case, or a bare ```), else undefined. Read in one pass: the regex it replaces,
 * /^\s*```(?:json)?[ \t]*\r?\n([\s\S]*?)\s*```\s*$/i, took quadratic time on an opening fence followed by a run
 * of spaces and no closing one (100,000 spaces: 27 s in which a proxy served nothing).
 */
function fencedBody(content: string): string | undefined {
  const text = content.trimStart();
  if (!text.startsWith('```')) return undefined;
  let at = 3;
  if (text.slice(at, at + 4).toLowerCase() === 'json') at += 4;
  while (text[at] === ' ' || text[at] === '\t') at++;
  if (text[at] === '\r') at++;
  if (text[at] !== '\n') return undefined;
  const rest = text.slice(at + 1).trimEnd();
  return rest.endsWith('```') ? rest.slice(0, -3).trimEnd() : undefined;
}

/** `contains`, one string or a list, as a list. */
function needlesOf(rules: QualityRules): string[] {
  return rules.contains === undefined ? [] : typeof rules.contains === 'string' ? [rules.contains] : [...rules.contains];
}

function fail(reason: string): QualityOutcome {
  return { ok: false, reason };
}
