// Plan errors carry their place (file:line:col) and key path so an operator can go straight to the fault.
import { escapeControls } from '../core/format.js';

export interface PlanProblem {
  file: string;
  line: number;
  col: number;
  /** Dotted key path with indices, e.g. "stages[2].green_weight"; empty for the whole document. */
  keyPath: string;
  message: string;
}

function formatProblem(problem: PlanProblem): string {
  const where = `${problem.file}:${problem.line}:${problem.col}`;
  // A problem may quote the plan's own text (a key, a prompts file's path): a plan from a pull request must not
  // rewrite the terminal or forge CI log lines (a path holding `\n::error::`), so one problem is one line.
  return escapeControls(problem.keyPath ? `${where} ${problem.keyPath}: ${problem.message}` : `${where} ${problem.message}`);
}

/** Thrown when a plan cannot be used; the CLI maps it to exit code 2. */
export class PlanError extends Error {
  readonly problems: PlanProblem[];
  readonly omitted: number;

  constructor(problems: PlanProblem[], omitted = 0) {
    const lines = problems.map(formatProblem);
    if (omitted > 0) lines.push(`... and ${omitted} more`);
    super(lines.join('\n'));
    this.name = 'PlanError';
    this.problems = problems;
    this.omitted = omitted;
  }
}

export function formatKeyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

/** Levenshtein distance, for "did you mean" hints on misspelt keys. */
function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0] as number;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j] as number;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      previous[j] = Math.min(above + 1, (previous[j - 1] as number) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return previous[b.length] as number;
}

export function closestKey(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const tolerance = Math.max(2, Math.floor(key.length / 3));
  return best !== undefined && bestDistance <= tolerance ? best : widerKey(key, candidates);
}

/**
 * The one candidate whose words (split at `_`) hold all of the key's, in order: `min_length` for
 * `min_content_length`, a word left out, which is too many letters for the edit distance (newuser32).
 */
export function widerKey(key: string, candidates: readonly string[]): string | undefined {
  const words = key.toLowerCase().split('_');
  if (words.length < 2 || words.includes('')) return undefined;
  const matches = candidates.filter((candidate) => {
    let next = 0;
    for (const word of candidate.toLowerCase().split('_')) if (word === words[next]) next++;
    return next === words.length;
  });
  return matches.length === 1 ? matches[0] : undefined;
}
