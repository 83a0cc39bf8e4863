// validate warns of a proxy.listen that `bluegreen proxy` refuses: off loopback without client keys (found by
// hostile10: validate passed it silently, and the proxy then stopped with exit 2).
import { describe, expect, it } from 'vitest';
import { planWarnings } from '../../src/plan/warnings.js';
import { planFromYaml } from '../helpers/plans.js';

const plan = (proxy: string) =>
  planFromYaml(`
name: listen-warning
upstream:
  simulate: { models: { a: {}, b: {} } }
blue: { model: a }
green: { model: b }
stages:
  - { duration: 1m, green_weight: 0.5 }
proxy: ${proxy}
`);
const listenWarnings = (proxy: string) => planWarnings(plan(proxy)).filter((warning) => warning.keyPath === 'proxy.listen');

describe('proxy.listen', () => {
  it('off loopback without client keys: warned, naming the address and the fix', () => {
    expect(listenWarnings('{ listen: "0.0.0.0:8787", admin: { token_env: T } }')).toEqual([
      {
        keyPath: 'proxy.listen',
        message:
          '0.0.0.0:8787 is off loopback and the plan sets no proxy.client_keys_env: bluegreen proxy refuses to listen there without client keys (exit 2); set client_keys_env, or listen on 127.0.0.1',
      },
    ]);
  });

  it('on loopback, or with client keys: no warning', () => {
    expect(listenWarnings('{ listen: "127.0.0.2:8787", admin: { token_env: T } }')).toEqual([]);
    expect(listenWarnings('{ listen: "[::1]:8787", admin: { token_env: T } }')).toEqual([]);
    expect(listenWarnings('{ listen: "0.0.0.0:8787", client_keys_env: KEYS, admin: { token_env: T } }')).toEqual([]);
  });
});
