// Turns zod issues into plan problems: positioned, with the key path, what was wrong and what was found.
import type { z } from 'zod';
import { closestKey, widerKey, type PlanProblem } from './errors.js';
import { describeFound, locate, locateKey, valueAt, type YamlSource } from './yaml-source.js';
import { formatKeyPath } from './errors.js';
import { DURATION_MESSAGE, ENV_NAME_MESSAGE } from './schema-fields.js';
import { parseDuration } from './duration.js';

type Issue = z.core.$ZodIssue;
type AnySchema = z.core.$ZodType;

export function zodProblems(source: YamlSource, data: unknown, schema: AnySchema, issues: readonly Issue[]): PlanProblem[] {
  const problems: PlanProblem[] = [];
  // A misspelt required key is one slip: its "did you mean" says it all, so the key is not also said to be missing.
  const meant = new Set<string>();
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    const known = knownKeys(schema, issue.path);
    for (const key of issue.keys) {
      const hint = closestKey(key, known);
      if (hint) meant.add(formatKeyPath([...issue.path, hint]));
    }
  }
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(schema, issue.path);
      for (const key of issue.keys) {
        const { line, col } = locateKey(source, issue.path, key);
        const hint = closestKey(key, known);
        // Every child that has it: `traffic.share` is synthetic's or sampled's, and which one only the writer knows.
        const under = hint ? [] : known.filter((child) => knownKeys(schema, [...issue.path, child]).includes(key));
        // Else a wider name one level down: `analysis.min_length` for analysis.quality.min_content_length.
        const deeper = hint || under.length > 0 ? undefined : deeperKey(schema, issue.path, known, key);
        const suffix = hint
          ? `; did you mean "${hint}"?`
          : under.length > 0
            ? `; it belongs under ${under.map((child) => `${child} (${formatKeyPath([...issue.path, child, key])})`).join(' or ')}`
            : deeper
              ? `; did you mean ${formatKeyPath([...issue.path, ...deeper])}?`
              : known.length
                ? ` (known keys: ${known.join(', ')})`
                : '';
        problems.push({ file: source.file, line, col, keyPath: formatKeyPath([...issue.path, key]), message: `unknown key${suffix}` });
      }
      continue;
    }
    const found = valueAt(data, issue.path);
    const { line, col, exists } = locate(source, issue.path);
    const keyPath = formatKeyPath(issue.path);
    if (exists && found === null && issue.code === 'invalid_type') {
      // `analysis: ~`, or a key with nothing after its colon: there, but empty. Not "required" when it may be left out.
      problems.push({ file: source.file, line, col, keyPath, message: `is empty (null): ${describeIssue(issue)}${emptyAdvice(schema, issue)}` });
    } else if (!exists || found === undefined || (found === null && issue.code === 'invalid_type')) {
      if (!exists && meant.has(keyPath)) continue;
      problems.push({ file: source.file, line, col, keyPath, message: `is required (${describeExpected(issue)})` });
    } else if (issue.message === ENV_NAME_MESSAGE) {
      // A value where a variable's name belongs is most often the key itself (a template filled with the value):
      // shown, even cut, it would reach the terminal and CI logs.
      problems.push({ file: source.file, line, col, keyPath, message: `${issue.message}, found a value that is not one (not shown: it may be a key)` });
    } else {
      const advice = shapeAdvice(issue, found) || numberAdvice(issue, found) || durationAdvice(issue, found);
      problems.push({ file: source.file, line, col, keyPath, message: `${describeIssue(issue)}, found ${describeFound(found)}${advice}` });
    }
  }
  return problems;
}

/** The one child object holding a wider name for the key (errors.ts widerKey), as [child, its key]. */
function deeperKey(schema: AnySchema, path: readonly PropertyKey[], known: readonly string[], key: string): [string, string] | undefined {
  const found = known.flatMap((child): [string, string][] => {
    const wider = widerKey(key, knownKeys(schema, [...path, child]));
    return wider === undefined ? [] : [[child, wider]];
  });
  return found.length === 1 ? found[0] : undefined;
}

/** A mapping or list written the way a newcomer slips: `rate:5` (no space: one string), a list's items without `- `. */
function shapeAdvice(issue: Issue, found: unknown): string {
  if (issue.code !== 'invalid_type') return '';
  if (issue.expected === 'object' && typeof found === 'string' && issue.path[0] === 'hooks') {
    return '; a hook is { exec: COMMAND } or { webhook: URL }';
  }
  // Not a URL's scheme (`health_check: http://...` is not a missing space).
  if (issue.expected === 'object' && typeof found === 'string' && /^[\w.-]+:(?!\/\/)\S/.test(found)) {
    // Shown whole only as short as "found" shows it (a longer value may be a secret's line), and as describeFound
    // shows it (a URL's credentials and query cut, escapes escaped), unquoted.
    const colon = found.indexOf(':');
    const value = found.length <= 40 ? describeFound(found.slice(colon + 1)).slice(1, -1) : '...';
    return `; a key needs a space after its colon (${found.slice(0, colon)}: ${value})`;
  }
  if (issue.expected === 'array' && found !== null && typeof found === 'object' && !Array.isArray(found)) {
    return `; each item of a list starts with "- " on its own line`;
  }
  // YAML 1.1's booleans, which YAML 1.2 (the plan's) reads as text: `json: yes` (newuser32).
  if (issue.expected === 'boolean' && typeof found === 'string' && /^(y|yes|n|no|on|off|true|false)$/i.test(found)) {
    return `; write ${/^(y|yes|on|true)$/i.test(found) ? 'true' : 'false'} (only true and false are booleans)`;
  }
  return '';
}

/** The messages of a number from 0 to 1 (schema-fields.ts's share, analysis.confidence): written as a percent, it is too big. */
const FRACTION_MESSAGES = new Set(['must be between 0 and 1', 'expected a number between 0 and 1', 'must be less than 1']);
const PERCENT = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/;
const LEADING_NUMBER = /^\s*\$?(\d+(?:\.\d+)?)\s*[^\d\s.]/;
/**
 * Digits grouped by underscores (YAML 1.1's `1_000`) or by commas in threes (`1,000`): read as the leading digits, it said
 * "(1)". A first group starting with 0 (`0,500`) is no group but a decimal comma (0.5), left to DECIMAL_COMMA.
 */
const GROUPED_NUMBER = /^\s*(\d+(?:_\d+)+|[1-9]\d{0,2}(?:,\d{3})+)(\.\d+)?\s*$/;
/** A decimal comma (`0,5`), once not a group of three: read as the leading digits, it said "(0)". */
const DECIMAL_COMMA = /^\s*(\d+),(\d+)\s*$/;

/**
 * A share written as a percent (`green_weight: 75`, `error_rate: 5%`), a number with its unit (`rate: 20/s`): say how
 * to write it. A number is taken for a percent only when whole and above 1 (1.5 is as likely a slip for 0.15).
 */
function numberAdvice(issue: Issue, found: unknown): string {
  const wantsNumber = issue.code === 'invalid_type' && issue.expected === 'number';
  const percent =
    typeof found === 'number' && found > 1 && Number.isInteger(found) && FRACTION_MESSAGES.has(issue.message)
      ? found
      : typeof found === 'string' && wantsNumber
        ? Number(PERCENT.exec(found)?.[1])
        : NaN;
  if (percent > 0 && percent <= 100) return `; write it as a fraction: ${Number((percent / 100).toPrecision(12))} for ${percent}%`;
  // A ratio as a percent (`max_latency_p95_ratio: 150%`): the number alone, 150, would allow a p95 150 times blue's.
  const ratio = typeof found === 'string' && wantsNumber && String(issue.path.at(-1)).endsWith('_ratio') ? Number(PERCENT.exec(found)?.[1]) : NaN;
  if (ratio > 0) return `; write it as a ratio: ${Number((ratio / 100).toPrecision(12))} for ${ratio}%`;
  const grouped = typeof found === 'string' && wantsNumber ? GROUPED_NUMBER.exec(found) : null;
  if (grouped) return `; write the digits without separators (${(grouped[1] ?? '').replace(/[_,]/g, '')}${grouped[2] ?? ''})`;
  const decimal = typeof found === 'string' && wantsNumber ? DECIMAL_COMMA.exec(found) : null;
  if (decimal) return `; write it with a decimal point (${decimal[1] ?? ''}.${decimal[2] ?? ''})`;
  const number = typeof found === 'string' && wantsNumber ? LEADING_NUMBER.exec(found)?.[1] : undefined;
  return number === undefined ? '' : `; write the number alone (${number})`;
}

/** A unit's words as people write them (plurals too), and the letters a plan takes: `1 minute` is `1m`. */
const UNIT_WORDS: Record<string, string> = {
  ...{ millisecond: 'ms', milli: 'ms', msec: 'ms', ms: 'ms', second: 's', sec: 's', s: 's' },
  ...{ minute: 'm', min: 'm', m: 'm', hour: 'h', hr: 'h', h: 'h' },
};

/**
 * A duration with its unit spelt out or set apart (`1 minute`, `90 seconds`, `1 m 30 s`): say how to write it (1m),
 * where the message gave examples only (newuser32).
 */
function durationAdvice(issue: Issue, found: unknown): string {
  if (issue.message !== DURATION_MESSAGE || typeof found !== 'string') return '';
  const text = found.trim().toLowerCase();
  const part = /(\d+(?:\.\d+)?)\s*([a-z]+)/g;
  // Nothing but the parts, and commas or "and" between them.
  if (
    text
      .replace(part, '')
      .replace(/,|\band\b/g, '')
      .trim() !== ''
  )
    return '';
  let written = '';
  for (const [, amount, word = ''] of text.matchAll(part)) {
    const unit = UNIT_WORDS[word] ?? (word.endsWith('s') ? UNIT_WORDS[word.slice(0, -1)] : undefined);
    if (unit === undefined) return '';
    written += `${amount ?? ''}${unit}`;
  }
  return written && parseDuration(written) !== undefined ? `; write it as ${written}` : '';
}

function describeExpected(issue: Issue): string {
  if (issue.code === 'invalid_type') return `expected ${issue.expected}`;
  return cleanMessage(issue.message);
}

function describeIssue(issue: Issue): string {
  if (issue.code === 'invalid_type') {
    // Our own messages ("expected a duration ...") beat zod's generic "Invalid input".
    return issue.message.startsWith('Invalid input') ? `expected ${issue.expected}` : issue.message;
  }
  if (issue.code === 'invalid_union') return 'does not match any allowed form';
  if (issue.code === 'invalid_value') return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  if (issue.code === 'too_small' && issue.origin === 'array') return `needs at least ${String(issue.minimum)} item(s)`;
  return cleanMessage(issue.message);
}

function cleanMessage(message: string): string {
  return message.replace(/^Invalid input: /, '').replace(/^Too (small|big): /, '');
}

/** Walks the schema along a data path to list the keys the object there accepts. */
function knownKeys(schema: AnySchema, path: readonly PropertyKey[]): string[] {
  const def = unwrap(schemaAt(schema, path))?._zod.def as unknown as Record<string, unknown> | undefined;
  return def?.type === 'object' ? Object.keys(def.shape as object) : [];
}

/** A key given as null that may be left out: say so (and that its defaults then apply, if it has them). */
function emptyAdvice(schema: AnySchema, issue: Issue & { code: 'invalid_type' }): string {
  const type = (schemaAt(schema, issue.path)?._zod.def as unknown as Record<string, unknown> | undefined)?.type;
  if (type === 'default' || type === 'prefault') return `; leave the key out to use its default${issue.expected === 'object' ? 's' : ''}`;
  // traffic may be left out of a live plan only (src/plan/checks.ts says so once the key is gone).
  if (formatKeyPath(issue.path) === 'traffic') return '; only a plan with proxy.admin may leave it out';
  if (type === 'optional') return '; leave the key out if it is not wanted';
  return '';
}

/** The schema at a data path, as declared there (optional or default not unwrapped); undefined off the schema. */
function schemaAt(schema: AnySchema, path: readonly PropertyKey[]): AnySchema | undefined {
  let current: AnySchema | undefined = schema;
  for (const part of path) {
    current = unwrap(current);
    const def: Record<string, unknown> | undefined = current?._zod.def as unknown as Record<string, unknown> | undefined;
    if (!def) return undefined;
    if (def.type === 'object') current = (def.shape as Record<string, AnySchema>)[String(part)];
    else if (def.type === 'array') current = def.element as AnySchema;
    else if (def.type === 'record') current = def.valueType as AnySchema;
    else return undefined;
  }
  return current;
}

function unwrap(schema: AnySchema | undefined): AnySchema | undefined {
  let current = schema;
  for (let depth = 0; current && depth < 10; depth++) {
    const def = current._zod.def as unknown as Record<string, unknown>;
    if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'prefault') {
      current = def.innerType as AnySchema;
    } else if (def.type === 'pipe') {
      current = def.in as AnySchema;
    } else {
      return current;
    }
  }
  return current;
}
