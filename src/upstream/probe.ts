// The tiny chat request that proves a model serves: for upstreams without a usable GET /models (relays,
// gateways, Azure deployments), in preflight and in the health check.
import type { ChatRequest } from './types.js';

/** A few output tokens at most: the answer's text does not matter, only that one came back. */
export const PROBE_MAX_TOKENS = 16;

export function probeRequest(): ChatRequest {
  return {
    messages: [{ role: 'user', content: 'Reply with the word OK.' }],
    params: {},
    stream: false,
    maxTokens: PROBE_MAX_TOKENS,
    source: 'health',
  };
}
