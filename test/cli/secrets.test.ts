// Which values the CLI treats as secrets once a plan is loaded.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { protectPlanSecrets } from '../../src/cli/secrets.js';
import { planFromYaml, tempDir } from '../helpers/plans.js';
import { testContext } from '../helpers/cli.js';

describe('protectPlanSecrets', () => {
  it('collects every api_key_env (top level, per arm, from .env too) and a forward proxy password', () => {
    const cwd = tempDir();
    writeFileSync(path.join(cwd, '.env'), 'GREEN_KEY=sk-green-from-dotenv\n');
    const plan = planFromYaml(
      `
name: keys
upstream: { base_url: "http://127.0.0.1:9/v1", api_key_env: TOP_KEY, headers: { X-Org: org-public-name, Authorization: "Bearer sk-in-a-header-1" } }
blue: { model: a, upstream: { base_url: "http://127.0.0.1:9/v1", api_key_env: BLUE_KEY } }
green: { model: b, upstream: { base_url: "http://127.0.0.1:9/v1", api_key_env: GREEN_KEY } }
traffic: { rate: 1 }
stages: [{ duration: 1m, green_weight: 0.5 }]
hooks: { pass_env: [BLUE_KEY] }
proxy: { client_keys_env: CLIENT_KEYS, admin: { token_env: ADMIN_TOKEN } }
`,
      cwd,
    );
    const ctx = testContext({
      cwd,
      env: {
        TOP_KEY: 'sk-top-1234567',
        BLUE_KEY: ' sk-blue-1234567\n',
        HTTPS_PROXY: 'http://me:proxy-pass-99@proxy:3128',
        CLIENT_KEYS: 'ck-alpha-1234, ck-beta-5678',
        ADMIN_TOKEN: 'admin-token-canary-987',
      },
    });
    const secrets = protectPlanSecrets(ctx, plan);
    expect(secrets.envNames).toEqual(['TOP_KEY', 'BLUE_KEY', 'GREEN_KEY', 'CLIENT_KEYS', 'ADMIN_TOKEN']);
    expect(secrets.redactor.text('token admin-token-canary-987')).toBe('token [redacted]');
    expect(secrets.redactor.text('client ck-beta-5678 and ck-alpha-1234')).toBe('client [redacted] and [redacted]');
    expect(secrets.passEnv).toEqual(['BLUE_KEY']);
    expect(
      secrets.redactor.text('sk-top-1234567 sk-blue-1234567 sk-green-from-dotenv proxy-pass-99 http://me:proxy-pass-99@proxy sk-in-a-header-1 org-public-name'),
    ).toBe('[redacted] [redacted] [redacted] [redacted] http://me:[redacted]@proxy [redacted] org-public-name');
  });
});
