// Reading a plan (or any YAML config) from disk into validated, positioned-error-checked data.
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { z } from 'zod';
import { PlanError, type PlanProblem } from './errors.js';
import { planSchema } from './schema.js';
import { checkPlan } from './checks.js';
import { resolvePlan } from './resolve.js';
import type { Plan } from './plan.js';
import { visit } from 'yaml';
import { parseYamlSource, type YamlSource } from './yaml-source.js';
import { zodProblems } from './zod-problems.js';
import { readPlanText } from './plan-text.js';
import { errorText } from '../core/errors.js';
import { shownPath } from '../core/paths.js';

export { readPlanText } from './plan-text.js';

/** Most problems reported at once: enough to fix a plan in one pass, few enough to read. */
const MAX_PROBLEMS = 25;

function fail(found: PlanProblem[]): never {
  // One value may break two checks that say the same (a seed of 1e30: not whole, and too large): said once.
  const seen = new Set<string>();
  const problems = found.filter((problem) => {
    const said = JSON.stringify([problem.file, problem.line, problem.col, problem.keyPath, problem.message]);
    if (seen.has(said)) return false;
    seen.add(said);
    return true;
  });
  // In the order of the file's lines, not of the checks (zod's is the schema's): a plan is fixed top to bottom, and
  // the first 25 are then the first 25 in the file. A problem in another file (a prompts file) keeps its place.
  const files = [...new Set(problems.map((problem) => problem.file))];
  problems.sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file) || a.line - b.line || a.col - b.col);
  throw new PlanError(problems.slice(0, MAX_PROBLEMS), Math.max(0, problems.length - MAX_PROBLEMS));
}

/** Parses YAML text against a schema; every problem at once, positioned. */
export function parseWithSchema<S extends z.ZodType>(file: string, text: string, schema: S): { value: z.output<S>; source: YamlSource } {
  const { source, problems } = parseYamlSource(file, text);
  if (problems.length) fail(problems);
  const data = toData(file, source);
  if (data === null || data === undefined || typeof data !== 'object' || Array.isArray(data)) {
    fail([
      {
        file,
        line: 1,
        col: 1,
        keyPath: '',
        message: `expected a mapping of keys at the top level, found ${data === null || data === undefined ? 'an empty document' : Array.isArray(data) ? 'a list' : typeof data}`,
      },
    ]);
  }
  const result = schema.safeParse(data);
  if (!result.success) fail(zodProblems(source, data, schema, result.error.issues));
  return { value: result.data, source };
}

/**
 * The document as plain data. Aliases are expanded here, so a "billion laughs" plan (aliases of aliases)
 * stops at yaml's maxAliasCount with a plan error instead of exhausting memory or crashing.
 */
function toData(file: string, source: YamlSource): unknown {
  readsNegativeZeroAsZero(source);
  try {
    return source.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const message = errorText(error);
    if (!/alias/i.test(message)) throw error;
    fail([{ file, line: 1, col: 1, keyPath: '', message: `YAML aliases expand too much (more than ${MAX_ALIAS_COUNT} copies); write the values out instead` }]);
  }
}

/**
 * A `-0` (or `-0.0`) in the file is 0: it passes every "0 or more" bound, and would print as "-0" where a count is
 * worked out from it (validate's "10/-0" requests for a green_weight of -0). Set on the document's scalars, as
 * yaml's reviver cannot (it keeps a value equal to the old one, and 0 === -0).
 */
function readsNegativeZeroAsZero(source: YamlSource): void {
  visit(source.doc, {
    Scalar(_key, node) {
      if (Object.is(node.value, -0)) node.value = 0;
    },
  });
}

/** Aliases a plan may expand: a few shared blocks are fine, an exponential bomb is not. */
const MAX_ALIAS_COUNT = 100;

/**
 * The folder a plan's relative paths (prompts, sampled traffic) and exec hooks are taken from: the plan file's own,
 * or, for a plan read through a pipe (`/dev/stdin`, `<(envsubst < plan.tmpl)`: /dev/fd/63), the working folder, since
 * /dev or /proc is no folder of the plan's.
 */
function planFolder(absolute: string, cwd: string): string {
  return readThroughStream(absolute) ? cwd : path.dirname(absolute);
}

/**
 * Whether a plan's absolute path is a stream's (/dev/stdin, /dev/fd/63, /proc/self/fd/0), not a file's: what it reads
 * is the reading process's own stdin or fd, so a later command cannot read that plan again through it.
 */
export function readThroughStream(absolute: string): boolean {
  return /^\/(dev|proc)\//.test(absolute);
}

/** Loads, validates and resolves a rollout plan. Throws PlanError (exit 2) with every problem found. */
export function loadPlan(file: string, cwd: string = process.cwd()): Plan {
  const absolute = path.resolve(cwd, file);
  const shown = shownPath(absolute, cwd);
  const text = readPlanText(absolute, shown);
  const { value, source } = parseWithSchema(shown, text, planSchema);
  const dir = planFolder(absolute, cwd);
  const problems = checkPlan(value, source, dir);
  if (problems.length) fail(problems);
  const hash = createHash('sha256').update(text).digest('hex');
  return resolvePlan(value, { file: absolute, dir, hash });
}
