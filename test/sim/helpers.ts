// Shared bits for the simulator tests: tiny latencies so the suite is fast, raw POST helpers.
import { closeAfterTest } from '../helpers/close-after-test.js';
import type { SimModelProfile, SimulateConfig } from '../../src/plan/schema.js';
import { startSimulator, type SimulatorHandle, type SimulatorOptions } from '../../src/sim/index.js';

export const FAST: SimModelProfile = {
  latency: { p50: 5, p95: 10 },
  ttft: 2,
  tokens_per_second: 5000,
  output_tokens: { min: 20, max: 40 },
};

/** A config where `model` (default "m") has the fast profile plus `overrides`. */
export function fastConfig(overrides: SimModelProfile = {}, extra: Partial<SimulateConfig> = {}): SimulateConfig {
  return { seed: 1, models: { m: { ...FAST, ...overrides } }, ...extra };
}

/** Starts a simulator that is closed after the test. */
export async function sim(config: SimulateConfig, options?: SimulatorOptions): Promise<SimulatorHandle> {
  return closeAfterTest(await startSimulator(config, options));
}

export const USER = [{ role: 'user', content: 'Where is my order? It was due on Monday.' }];

export function chat(handle: SimulatorHandle, body: Record<string, unknown>, init: RequestInit = {}): Promise<Response> {
  return fetch(`${handle.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer anything' },
    body: JSON.stringify({ model: 'm', messages: USER, ...body }),
    ...init,
  });
}

export function messages(handle: SimulatorHandle, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${handle.baseUrl}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'anything', 'anthropic-version': '2023-06-01', ...headers },
    body: JSON.stringify({ model: 'm', max_tokens: 256, messages: USER, ...body }),
  });
}

/** The `data:` payloads of an SSE body, in order. */
export function sseData(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => line.slice('data: '.length));
}

export function sseEvents(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('event: '))
    .map((line) => line.slice('event: '.length));
}
