// From validated plan data to the Plan the engine uses: arm upstreams merged, paths made absolute.
import path from 'node:path';
import type { ArmName, ArmPlan, Plan, PlanSource, UpstreamConfig } from './plan.js';
import { isAzureHost } from '../upstream/azure.js';
import type { ParsedPlan } from './schema.js';
import { trafficSchema } from './traffic-schema.js';

type UpstreamData = ParsedPlan['upstream'];
type ArmData = ParsedPlan['blue'];

function mergeUpstream(top: UpstreamData, armData: ArmData): UpstreamConfig {
  const own = armData.upstream;
  const request = armData.request;
  // An arm that names its own endpoint replaces the top-level one; other keys fall back to the top level.
  const ownEndpoint = own?.base_url !== undefined || own?.simulate !== undefined;
  const timeout = own?.timeout ?? top.timeout;
  const baseUrl = ownEndpoint ? own?.base_url : top.base_url;
  const retries = own?.retries ?? top.retries;
  return {
    baseUrl,
    simulate: ownEndpoint ? own?.simulate : top.simulate,
    api: own?.api ?? top.api ?? (baseUrl !== undefined && isAzureHost(baseUrl) ? 'azure' : 'openai'),
    apiKeyEnv: own?.api_key_env ?? top.api_key_env,
    timeout: {
      connectMs: timeout?.connect ?? 10_000,
      requestMs: timeout?.request ?? 60_000,
      idleMs: timeout?.idle ?? 30_000,
    },
    retries: {
      max: retries?.max ?? 3,
      baseDelayMs: retries?.base_delay ?? 500,
      maxDelayMs: retries?.max_delay ?? 8000,
    },
    headers: { ...top.headers, ...own?.headers, ...request?.headers },
    apiVersion: own?.api_version ?? top.api_version,
    modelsEndpoint: own?.models_endpoint ?? top.models_endpoint ?? 'warn',
    deployment: armData.deployment,
    request: {
      tokenParam: request?.token_param ?? 'auto',
      drop: request?.drop,
      reasoningEffort: request?.reasoning_effort,
      params: request?.params ?? {},
    },
  };
}

export function resolvePlan(parsed: ParsedPlan, source: PlanSource): Plan {
  const arm = (name: ArmName): ArmPlan => ({
    name,
    model: parsed[name].model,
    price: parsed[name].price,
    upstream: mergeUpstream(parsed.upstream, parsed[name]),
  });
  // A live plan without a traffic block (checks.ts: it has proxy.admin) generates nothing; the defaults stand in so every plan has the same shape.
  const traffic = { ...(parsed.traffic ?? trafficSchema.parse({ rate: 1 })) };
  if (traffic.synthetic && typeof traffic.synthetic.prompts === 'string') {
    traffic.synthetic = { ...traffic.synthetic, prompts: path.resolve(source.dir, traffic.synthetic.prompts) };
  }
  if (traffic.sampled) traffic.sampled = { ...traffic.sampled, file: path.resolve(source.dir, traffic.sampled.file) };
  if (!traffic.synthetic && !traffic.sampled) traffic.synthetic = { share: 1 };
  // A single source takes all the traffic when its share is left out.
  if (traffic.synthetic && !traffic.sampled) traffic.synthetic = { ...traffic.synthetic, share: traffic.synthetic.share ?? 1 };
  if (traffic.sampled && !traffic.synthetic) traffic.sampled = { ...traffic.sampled, share: traffic.sampled.share ?? 1 };
  const arms = { blue: arm('blue'), green: arm('green') };
  // Without /models to ask, the health check asks the model itself.
  const health_check = parsed.health_check && {
    ...parsed.health_check,
    probe: parsed.health_check.probe ?? (arms.green.upstream.modelsEndpoint === 'skip' ? ('chat' as const) : ('models' as const)),
  };
  return { ...parsed, traffic, ...(parsed.traffic === undefined && { trafficDefaulted: true as const }), health_check, source, arms };
}
