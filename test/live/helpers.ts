// Live rollouts end to end: real proxies in-process in front of the simulator, the official openai client as
// the application, and `bluegreen rollout` driving the proxies through their admin API.
import OpenAI from 'openai';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runProxy, type Running } from '../proxy/helpers.js';
import { tempDir } from '../helpers/plans.js';

export const ADMIN_TOKEN = 'live-admin-token-0123456789';

export interface LivePlanOptions {
  /** Extra fields for green's simulated profile, like "error_rate: 1". */
  green?: string;
  stages: string[];
  /** Written into proxy.controller besides admin_urls. */
  controller?: string;
  fallback?: boolean;
  thresholds?: string;
  /** Replaces the simulated upstream block (the proxies keep theirs). */
  upstream?: string;
}

/** The proxies' plan (no controller block: the proxies never read it). */
export function proxyPlan(options: Pick<LivePlanOptions, 'green' | 'fallback'> = {}): string {
  return planText({ ...options, stages: ['{ duration: 1s, green_weight: 0 }'] }, undefined);
}

function planText(options: LivePlanOptions, adminUrls: string[] | undefined): string {
  const controller =
    adminUrls && adminUrls.length > 0 ? `, controller: { admin_urls: [${adminUrls.join(', ')}]${options.controller ? `, ${options.controller}` : ''} }` : '';
  const upstream =
    options.upstream ??
    `upstream:
  api: openai
  simulate:
    seed: 5
    models:
      gpt-4o:  { latency: { p50: 3ms, p95: 6ms }, ttft: 1ms, tokens_per_second: 5000, output_tokens: { min: 5, max: 20 } }
      gpt-4.1: { latency: { p50: 3ms, p95: 6ms }, ttft: 1ms, tokens_per_second: 5000, output_tokens: { min: 5, max: 20 }${options.green ? `, ${options.green}` : ''} }
  timeout: { connect: 2s, request: 5s }`;
  return `
name: live-test
${upstream}
blue:  { model: gpt-4o,  price: { input_per_mtok: 1, output_per_mtok: 2 } }
green: { model: gpt-4.1, price: { input_per_mtok: 1, output_per_mtok: 2 } }
traffic: { rate: 5 }
stages:
${options.stages.map((s) => `  - ${s}`).join('\n')}
analysis:
  interval: 200ms
  min_requests: 5
  thresholds: { ${options.thresholds ?? 'error_rate: 0.2'} }
proxy: { fallback: ${options.fallback ?? true}, admin: { token_env: ADMIN_TOKEN }${controller} }
`;
}

/** Writes the rollout's plan (driving the given proxies) into a fresh folder; returns the folder. */
export function writeRolloutPlan(options: LivePlanOptions, proxies: Running[]): string {
  const dir = tempDir('bluegreen-live-');
  writeFileSync(
    path.join(dir, 'plan.yaml'),
    planText(
      options,
      proxies.map((p) => p.proxy.adminUrl as string),
    ),
  );
  return dir;
}

export async function startProxies(count: number, options: Pick<LivePlanOptions, 'green' | 'fallback'> & { stateDirs?: string[] } = {}): Promise<Running[]> {
  const all: Running[] = [];
  for (let i = 0; i < count; i++) {
    all.push(await runProxy(proxyPlan(options), { env: { ADMIN_TOKEN }, stateDir: options.stateDirs?.[i] }));
  }
  return all;
}

/** The demo application: steady chat requests through the proxies, counting the arm that answered each. */
export class Application {
  readonly arms = { blue: 0, green: 0 };
  fallbacks = 0;
  failures = 0;
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(proxies: Running[], concurrency = 2) {
    const clients = proxies.map((p) => new OpenAI({ baseURL: p.baseUrl, apiKey: 'app-key', maxRetries: 0 }));
    this.loops = Array.from({ length: concurrency * clients.length }, (_, i) => this.loop(clients[i % clients.length] as OpenAI, i));
  }

  get total(): number {
    return this.arms.blue + this.arms.green + this.failures;
  }

  private async loop(client: OpenAI, id: number): Promise<void> {
    let n = 0;
    while (this.running) {
      try {
        const { response } = await client.chat.completions
          .create({ model: 'gpt-4o', user: `user-${id}-${n++}`, messages: [{ role: 'user', content: 'hello' }] })
          .withResponse();
        const arm = response.headers.get('x-bluegreen-arm');
        if (arm === 'blue' || arm === 'green') this.arms[arm]++;
        if (response.headers.get('x-bluegreen-fallback') === 'true') this.fallbacks++;
      } catch {
        this.failures++;
      }
      // A steady pace, like an application serving users (not a load test).
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}
