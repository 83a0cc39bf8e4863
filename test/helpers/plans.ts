// Builds plans in tests from YAML text, through the real loader, so tests exercise what users write.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPlan } from '../../src/plan/load.js';
import type { Plan } from '../../src/plan/plan.js';
import { analysisSchema, type AnalysisConfig } from '../../src/plan/schema.js';

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

/** An analysis block as a loaded plan holds it: the schema's defaults, with `partial`'s keys over them. */
export function analysisConfig(partial: Partial<AnalysisConfig> = {}): AnalysisConfig {
  return { ...analysisSchema.parse({}), ...partial };
}

/**
 * A plan on a fast in-process simulator with the given stages: for tests that need a rollout running, not its
 * figures. `apiKeyEnv` names the variable the upstream key is read from (for secrets tests). Its short stages
 * judge nothing (20 req/s against min_requests 20), so it promotes such a rollout (analysis.on_unjudged:
 * promote) unless `analysis` (a flow mapping) says otherwise.
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
${stages.map((stage) => `  - { duration: ${stage.duration}, green_weight: ${stage.weight} }`).join('\n')}
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
