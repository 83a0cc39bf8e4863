// The proxy's log says when the route changes, not on every lease renewal (a rollout renews every lease/3).
import { describe, expect, it } from 'vitest';
import { runProxy, simPlan } from './helpers.js';

const TOKEN = 'admin-token-for-tests';

describe('route lines in the proxy log', () => {
  it('are written on a change, after a lease ran out, and not on renewals', async () => {
    let now = Date.UTC(2026, 0, 1);
    const running = await runProxy(simPlan({ proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), { env: { ADMIN_TOKEN: TOKEN }, now: () => now });
    const put = async (route: Record<string, unknown>): Promise<void> => {
      const response = await fetch(`${running.proxy.adminUrl as string}/admin/route`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(route),
      });
      expect(response.status).toBe(200);
    };
    const routeLines = (): string[] => running.logs.filter((line) => line.startsWith('route set'));

    const stage1 = { greenWeight: 0.1, mirror: 0, ttlMs: 5000, reason: 'stage 1/3', stage: 1 };
    await put(stage1);
    for (let renewal = 0; renewal < 5; renewal++) {
      now += 1500;
      await put(stage1);
    }
    expect(routeLines()).toEqual(['route set: green 10%, mirror 0% (stage 1/3)']);

    await put({ greenWeight: 0.5, mirror: 0, ttlMs: 5000, reason: 'stage 2/3', stage: 2 });
    expect(routeLines()).toHaveLength(2);
    // The lease runs out (the proxy serves blue); the same route set again is news.
    now += 10_000;
    await put({ greenWeight: 0.5, mirror: 0, ttlMs: 5000, reason: 'stage 2/3', stage: 2 });
    expect(running.logs.some((line) => line.includes('lease expired'))).toBe(true);
    expect(routeLines()).toEqual([
      'route set: green 10%, mirror 0% (stage 1/3)',
      'route set: green 50%, mirror 0% (stage 2/3)',
      'route set: green 50%, mirror 0% (stage 2/3)',
    ]);
  });
});
