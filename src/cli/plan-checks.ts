// The checks a rollout makes before any traffic, run as well by `validate` and `rollout --dry-run` so that a plan
// they pass is one the rollout accepts. Errors throw (PlanError, TrafficError: exit 2); the rest are warnings.
import { readFileSync } from 'node:fs';
import { ARMS, type Plan } from '../plan/plan.js';
import { formatKeyPath } from '../plan/errors.js';
import { locate, parseYamlSource } from '../plan/yaml-source.js';
import { missingKeyText, readApiKey } from '../upstream/api-key.js';
import { sendsNothingUpstream } from '../live/upstream-free.js';
import { formatWarning, planWarnings } from '../plan/warnings.js';
import { TrafficError } from '../traffic/errors.js';
import { sampledShareOf } from '../traffic/mix.js';
import { checkSampledFile, sampledFileWarning, type SampledFileCheck } from '../traffic/sampled-check.js';
import { promptsAreRequestBodies, readPromptsFile } from '../traffic/prompts.js';

export async function checkBeforeTraffic(plan: Plan): Promise<string[]> {
  const check = await sampledFileCheck(plan);
  const warnings = [...warningsReading(plan, check), ...promptsFileWarnings(plan)];
  const file = plan.traffic.sampled?.file;
  const read = check && file !== undefined && sampledFileWarning(file, check);
  if (read) warnings.push(read);
  return warnings;
}

/**
 * The warnings `rollout` gives as it starts: validate's and --dry-run's, the sampled file read as they read it. Its
 * skipped lines (and parameters an Anthropic arm leaves out) the rollout reports as its traffic reads them, and a file it cannot use (missing, empty) stops the
 * rollout there, after a dead run's traffic is put back on blue, as before: here the plan's warnings go without it.
 */
export async function rolloutStartWarnings(plan: Plan): Promise<string[]> {
  let check: SampledFileCheck | undefined;
  try {
    check = await sampledFileCheck(plan);
  } catch (error) {
    if (!(error instanceof TrafficError)) throw error;
  }
  return [...warningsReading(plan, check), ...promptsFileWarnings(plan)];
}

/** A prompts file of recorded request bodies (the sampled file named as prompts): each line would go as one prompt's text. */
function promptsFileWarnings(plan: Plan): string[] {
  const file = plan.traffic.synthetic?.prompts;
  if (typeof file !== 'string' || sampledShareOf(plan.traffic) >= 1) return [];
  let prompts: string[];
  try {
    prompts = readPromptsFile(file);
  } catch {
    return []; // the plan check and the rollout say why it cannot be read
  }
  if (!promptsAreRequestBodies(prompts)) return [];
  return [
    `traffic.synthetic.prompts: ${file} holds chat request bodies (JSON with a "messages" list), and a prompts file's every line is sent as the text of one user message, JSON and all; replay recorded requests with traffic.sampled.file`,
  ];
}

/** The sampled file read whole (checkSampledFile), when the plan sends sampled traffic. */
async function sampledFileCheck(plan: Plan): Promise<SampledFileCheck | undefined> {
  const sampled = plan.traffic.sampled;
  if (!sampled || sampledShareOf(plan.traffic) <= 0) return undefined;
  try {
    return await checkSampledFile(sampled.file, plan.traffic.max_tokens, undefined, sendsToAnthropic(plan));
  } catch (error) {
    throw placedInPlan(plan, error);
  }
}

const SAMPLED_FILE_KEY = ['traffic', 'sampled', 'file'];

/**
 * The sampled file's TrafficError (empty, no usable line) said where the plan names the file, as the plan's own
 * checks say a missing one: "plan.yaml:9:11 traffic.sampled.file: sampled traffic file ... has no usable request".
 * Any other error as it is.
 */
export function placedInPlan(plan: Plan, error: unknown): unknown {
  const file = plan.traffic.sampled?.file;
  if (!(error instanceof TrafficError) || file === undefined || error.file !== file) return error;
  const keyPath = formatKeyPath(SAMPLED_FILE_KEY);
  const place = placeInPlan(plan, SAMPLED_FILE_KEY);
  if (place === undefined) return new TrafficError(`${plan.source.file}: ${keyPath}: ${error.message}`, error.file);
  const problem = { file: plan.source.file, ...place, keyPath, message: error.message };
  return new TrafficError(`${problem.file}:${problem.line}:${problem.col} ${keyPath}: ${error.message}`, error.file, problem);
}

/** The key's line and column, from the plan file read again; undefined if it is gone (or the key no longer there). */
function placeInPlan(plan: Plan, keyPath: readonly string[]): { line: number; col: number } | undefined {
  const file = plan.source.file;
  try {
    const { line, col, exists } = locate(parseYamlSource(file, readFileSync(file, 'utf8')).source, keyPath);
    if (exists) return { line, col };
  } catch {
    // unreadable since it was loaded: no position
  }
  return undefined;
}

/** An arm speaks Anthropic's Messages API: sampled requests it cannot be sent faithfully are skipped for both arms. */
export function sendsToAnthropic(plan: Plan): boolean {
  return ARMS.some((arm) => plan.arms[arm].upstream.api === 'anthropic');
}

/** The plan's warnings; the sampled lines' sticky keys widen the spread of each arm's count (src/plan/judging-odds.ts). */
function warningsReading(plan: Plan, check: SampledFileCheck | undefined): string[] {
  return planWarnings(plan, { sampledKeyCollision: check?.keyCollision }).map(formatWarning);
}

/** `validate` without --check-upstream: a key variable that is not set would stop the rollout at preflight. */
export function missingKeyWarnings(plan: Plan, env: NodeJS.ProcessEnv, cwd: string): string[] {
  if (sendsNothingUpstream(plan)) return [];
  const names = new Set(ARMS.map((arm) => plan.arms[arm].upstream.apiKeyEnv).filter((name): name is string => name !== undefined));
  return [...names]
    .filter((name) => readApiKey(name, env, cwd) === undefined)
    .map((name) => `${missingKeyText(name, env, cwd)}: the rollout would stop at preflight (exit 3)`);
}

/** `validate` on a live plan: without the admin token a rollout cannot drive the proxies and stops at start. */
export function missingAdminTokenWarnings(plan: Plan, env: NodeJS.ProcessEnv): string[] {
  const name = plan.proxy?.admin?.token_env;
  if (name === undefined || env[name]) return [];
  return [`${name} (proxy.admin.token_env) is not set: a rollout of this plan could not drive its proxies and would stop at start (exit 2)`];
}
