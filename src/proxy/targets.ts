// One forwarding target per arm: a keep-alive undici pool to its upstream, its dialect, and the headers every
// request to it carries (the upstream key among them; it never leaves this object except towards the upstream).
import { Pool } from 'undici';
import type { ArmName, UpstreamConfig } from '../plan/plan.js';
import { ARMS } from '../plan/plan.js';
import { dialectFor, endpoint } from '../upstream/client.js';
import type { ForwardTarget } from './forward.js';

export interface ArmUpstream {
  arm: ArmName;
  model: string;
  upstream: UpstreamConfig & { baseUrl: string };
  apiKey?: string;
}

export interface Targets {
  arms: Record<ArmName, ForwardTarget>;
  /** GET {base}/models on blue's upstream, as a path on blue's pool. */
  modelsPath: string;
  /** Every upstream key, for redacting bodies passed back to the client. */
  secrets: string[];
  close(): Promise<void>;
}

export function createTargets(arms: Record<ArmName, ArmUpstream>, maxConnections = 256): Targets {
  // Arms on the same origin share one pool, as they share one upstream.
  const pools = new Map<string, Pool>();
  const built = {} as Record<ArmName, ForwardTarget>;
  for (const name of ARMS) {
    const { arm, model, upstream, apiKey } = arms[name];
    const dialect = dialectFor(upstream.api);
    const chatUrl = endpoint(upstream.baseUrl, dialect.chatPath);
    let pool = pools.get(chatUrl.origin);
    if (!pool) {
      pool = new Pool(chatUrl.origin, { connections: maxConnections, connect: { timeout: upstream.timeout.connectMs } });
      pools.set(chatUrl.origin, pool);
    }
    const headers: Record<string, string> = { 'user-agent': 'bluegreen-proxy', 'accept-encoding': 'identity', ...dialect.headers(apiKey) };
    // Plan headers come last so an operator can override anything, as the traffic path allows.
    for (const [key, value] of Object.entries(upstream.headers)) headers[key.toLowerCase()] = value;
    built[name] = {
      arm,
      model,
      dialect,
      dispatcher: pool,
      chatPath: chatUrl.pathname + chatUrl.search,
      headers,
      timeouts: { requestMs: upstream.timeout.requestMs, idleMs: upstream.timeout.idleMs, connectMs: upstream.timeout.connectMs },
    };
  }
  const blue = arms.blue.upstream;
  const modelsUrl = endpoint(blue.baseUrl, '/models');
  return {
    arms: built,
    modelsPath: modelsUrl.pathname + modelsUrl.search,
    secrets: ARMS.flatMap((arm) => (arms[arm].apiKey ? [arms[arm].apiKey] : [])),
    close: async () => {
      await Promise.all([...pools.values()].map((pool) => pool.close()));
    },
  };
}
