// The plan as the rest of bluegreen sees it: validated, arm upstreams merged, file paths absolute.
import type { ParsedPlan, Price, SimulateConfig } from './schema.js';

export type ArmName = 'blue' | 'green';
export const ARMS: readonly ArmName[] = ['blue', 'green'];
export type ApiDialect = 'openai' | 'anthropic' | 'azure';
export type ModelsEndpoint = 'skip' | 'warn' | 'require';

/** How an arm's requests are made valid for its model (see src/upstream/adapt.ts). */
export interface ArmRequestSettings {
  tokenParam: 'auto' | 'max_tokens' | 'max_completion_tokens';
  /** Parameters never sent; undefined means the default for the model. */
  drop?: string[];
  reasoningEffort?: string;
  /** Body fields set on every request. */
  params: Record<string, unknown>;
}

/** Where an arm's requests go. Exactly one of baseUrl and simulate is set. */
export interface UpstreamConfig {
  baseUrl?: string;
  simulate?: SimulateConfig;
  api: ApiDialect;
  apiKeyEnv?: string;
  timeout: { connectMs: number; requestMs: number; idleMs: number };
  retries: { max: number; baseDelayMs: number; maxDelayMs: number };
  headers: Record<string, string>;
  /** Azure OpenAI api-version (deployments path). */
  apiVersion?: string;
  modelsEndpoint: ModelsEndpoint;
  /** Azure OpenAI deployment of this arm (default: the model name). */
  deployment?: string;
  /** This arm's request adaptation; it lives here because an UpstreamConfig is already per arm. */
  request: ArmRequestSettings;
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

export type Plan = Omit<ParsedPlan, 'traffic'> & {
  /** Always set once resolved: a live plan (proxy.admin) without a traffic block gets the defaults (it generates nothing). */
  traffic: NonNullable<ParsedPlan['traffic']>;
  /** Set when the plan has no traffic block: `traffic` holds the defaults, whose rate says nothing of any real traffic. */
  trafficDefaulted?: true;
  source: PlanSource;
  arms: Record<ArmName, ArmPlan>;
};
