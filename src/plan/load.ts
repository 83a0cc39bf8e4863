// Reading a plan (or any YAML config) from disk into validated, positioned-error-checked data.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { PlanError, type PlanProblem } from './errors.js';
import { planSchema } from './schema.js';
import { checkPlan } from './checks.js';
import { resolvePlan } from './resolve.js';
import type { Plan } from './plan.js';
import { parseYamlSource, type YamlSource } from './yaml-source.js';
import { zodProblems } from './zod-problems.js';

/** Most problems reported at once: enough to fix a plan in one pass, few enough to read. */
export const MAX_PROBLEMS = 25;

export function readPlanText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (code ?? 'unreadable');
    throw new PlanError([{ file, line: 1, col: 1, keyPath: '', message: `cannot read the file (${why})` }]);
  }
}

function fail(problems: PlanProblem[]): never {
  throw new PlanError(problems.slice(0, MAX_PROBLEMS), Math.max(0, problems.length - MAX_PROBLEMS));
}

/** Parses YAML text against a schema; every problem at once, positioned. */
export function parseWithSchema<S extends z.ZodType>(file: string, text: string, schema: S): { value: z.output<S>; source: YamlSource } {
  const { source, problems } = parseYamlSource(file, text);
  if (problems.length) fail(problems);
  const data: unknown = source.doc.toJS();
  if (data === null || data === undefined || typeof data !== 'object' || Array.isArray(data)) {
    fail([{ file, line: 1, col: 1, keyPath: '', message: `expected a mapping of keys at the top level, found ${data === null || data === undefined ? 'an empty document' : Array.isArray(data) ? 'a list' : typeof data}` }]);
  }
  const result = schema.safeParse(data);
  if (!result.success) fail(zodProblems(source, data, schema, result.error.issues));
  return { value: result.data, source };
}

export function loadYamlWithSchema<S extends z.ZodType>(file: string, schema: S): z.output<S> {
  return parseWithSchema(file, readPlanText(file), schema).value;
}

/** Loads, validates and resolves a rollout plan. Throws PlanError (exit 2) with every problem found. */
export function loadPlan(file: string, cwd: string = process.cwd()): Plan {
  const absolute = path.resolve(cwd, file);
  const shown = path.relative(cwd, absolute) || file;
  const text = readPlanText(shown === file ? absolute : absolute);
  const { value, source } = parseWithSchema(shown, text, planSchema);
  const dir = path.dirname(absolute);
  const problems = checkPlan(value, source, dir);
  if (problems.length) fail(problems);
  const hash = createHash('sha256').update(text).digest('hex');
  return resolvePlan(value, { file: absolute, dir, hash });
}
