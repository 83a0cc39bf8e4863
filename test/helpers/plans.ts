// Builds plans in tests from YAML text, through the real loader, so tests exercise what users write.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PlanError } from '../../src/plan/errors.js';
import { loadPlan } from '../../src/plan/load.js';
import type { Plan } from '../../src/plan/plan.js';
import type { AnalysisConfig } from '../../src/plan/schema.js';
import { analysisSchema } from '../../src/plan/analysis-schema.js';

export function tempDir(prefix = 'bluegreen-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function writePlan(yaml: string, dir = tempDir()): string {
  const file = path.join(dir, 'plan.yaml');
  writeFileSync(file, yaml);
  return file;
}

export function planFromYaml(yaml: string, dir = tempDir()): Plan {
  return loadPlan(writePlan(yaml, dir), dir);
}

/** The message a plan is refused with, a PlanError (a clear refusal, not a crash); throws when the plan loads. */
export function planRefusal(yaml: string): string {
  try {
    planFromYaml(yaml);
  } catch (error) {
    if (!(error instanceof PlanError)) throw error;
    return error.message;
  }
  throw new Error('the plan loaded');
}

/** An analysis block as a loaded plan holds it: the schema's defaults, with `partial`'s keys over them. */
export function analysisConfig(partial: Partial<AnalysisConfig> = {}): AnalysisConfig {
  return { ...analysisSchema.parse({}), ...partial };
}

/** The parts of a plan's YAML that tests vary. */
export interface PlanParts {
  name: string;
  /** The upstream's keys, inside its flow mapping: `simulate: { models: {} }, retries: { max: 0 }`. */
  upstream: string;
  /** Blue's and green's models: b and g unless told. */
  models?: { blue: string; green: string };
  /** The traffic's keys, inside its flow mapping: `rate: 20`. */
  traffic: string;
  stages: { duration: string; weight: number }[];
  /** The analysis block's lines (`interval: 1s`), none for the schema's defaults. */
  analysis?: string[];
  /** Appended as is: a hooks block. */
  more?: string;
}

/** Two stages of `duration`: half green, then all green. */
export function halfThenAll(duration: string): PlanParts['stages'] {
  return [
    { duration, weight: 0.5 },
    { duration, weight: 1 },
  ];
}

/** A stages block's lines, one flow mapping a stage. */
function stageLines(stages: PlanParts['stages']): string {
  return stages.map((stage) => `  - { duration: ${stage.duration}, green_weight: ${stage.weight} }`).join('\n');
}

/** A plan's YAML from its parts, one stage a line. */
export function planYaml(parts: PlanParts): string {
  const { blue, green } = parts.models ?? { blue: 'b', green: 'g' };
  const analysis = parts.analysis?.length ? `analysis:\n${parts.analysis.map((line) => `  ${line}`).join('\n')}\n` : '';
  return `
name: ${parts.name}
upstream: { ${parts.upstream} }
blue: { model: ${blue} }
green: { model: ${green} }
traffic: { ${parts.traffic} }
stages:
${stageLines(parts.stages)}
${analysis}${parts.more ?? ''}`;
}

/**
 * A plan on a fast in-process simulator with the given stages: for tests that need a rollout running, not its
 * figures. `apiKeyEnv` names the variable the upstream key is read from (for secrets tests). Its short stages
 * judge nothing (20 req/s against min_requests 20), so it promotes such a rollout (analysis.on_unjudged:
 * promote) unless `analysis` (a flow mapping) says otherwise. Its upstream is a block mapping, blue's and green's
 * lines flow mappings: tests edit its text.
 */
export function simulatedStagesPlan(
  name: string,
  stages: { duration: string; weight: number }[],
  options: { apiKeyEnv?: string; analysis?: string } = {},
): string {
  return `
name: ${name}
upstream:${options.apiKeyEnv ? `\n  api_key_env: ${options.apiKeyEnv}` : ''}
  simulate: { seed: 1, models: { a: { latency: { p50: 5ms, p95: 10ms } }, b: { latency: { p50: 5ms, p95: 10ms } } } }
blue: { model: a }
green: { model: b }
traffic: { rate: 20 }
analysis: ${options.analysis ?? '{ on_unjudged: promote }'}
stages:
${stageLines(stages)}
`;
}

/** Two stages of the same length on the fast simulator, the second at 100% green. */
export function simulatedPlan(name: string, stageDuration: string, firstWeight: number, options: { apiKeyEnv?: string } = {}): string {
  return simulatedStagesPlan(
    name,
    [
      { duration: stageDuration, weight: firstWeight },
      { duration: stageDuration, weight: 1 },
    ],
    options,
  );
}
