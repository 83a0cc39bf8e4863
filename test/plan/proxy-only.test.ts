// A plan only ever served by `bluegreen proxy` needs no traffic block: it generates no requests.
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
proxy: { listen: 127.0.0.1:8787 }
`);
    expect(plan.proxy?.listen).toBe('127.0.0.1:8787');
    expect(plan.traffic).toMatchObject({ rate: 1, synthetic: { share: 1 } });
  });
});
