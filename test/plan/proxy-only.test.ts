// A live plan (a proxy block with admin, which `bluegreen rollout` drives) needs no traffic block: it generates no
// requests. Without admin no rollout moves the proxy, and the block is required (bad-plans/no-traffic-without-admin.yaml).
import { describe, expect, it } from 'vitest';
import { planFromYaml } from '../helpers/plans.js';

describe('a proxy-only plan', () => {
  it('loads without a traffic block, with the traffic defaults standing in', () => {
    const plan = planFromYaml(`
name: live-only
upstream:
  simulate: { models: { a: {}, b: {} } }
blue: { model: a }
green: { model: b }
stages:
  - { duration: 1m, green_weight: 0, mirror: 0.5 }
proxy: { listen: 127.0.0.1:8787, admin: { token_env: ADMIN_TOKEN } }
`);
    expect(plan.proxy?.listen).toBe('127.0.0.1:8787');
    expect(plan.traffic).toMatchObject({ rate: 1, synthetic: { share: 1 } });
  });
});
