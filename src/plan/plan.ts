// The plan as the rest of bluegreen sees it: validated, arm upstreams merged, file paths absolute.
import type { ParsedPlan, Price, SimulateConfig } from './schema.js';

export type ArmName = 'blue' | 'green';
export const ARMS: readonly ArmName[] = ['blue', 'green'];
export type ApiDialect = 'openai' | 'anthropic';

/** Where an arm's requests go. Exactly one of baseUrl and simulate is set. */
export interface UpstreamConfig {
  baseUrl?: string;
  simulate?: SimulateConfig;
  api: ApiDialect;
  apiKeyEnv?: string;
  timeout: { connectMs: number; requestMs: number; idleMs: number };
  retries: { max: number; baseDelayMs: number; maxDelayMs: number };
  headers: Record<string, string>;
}

export interface ArmPlan {
  name: ArmName;
  model: string;
  price?: Price;
  upstream: UpstreamConfig;
}

export interface PlanSource {
  /** Absolute path of the plan file. */
  file: string;
  /** Folder the plan's relative paths are resolved against. */
  dir: string;
  /** sha256 of the plan text, so reports can name exactly which plan ran. */
  hash: string;
}

export type Plan = ParsedPlan & {
  source: PlanSource;
  arms: Record<ArmName, ArmPlan>;
};
