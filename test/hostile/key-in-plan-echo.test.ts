// hostile28: a key pasted where the plan names its variable (`api_key_env: <the key>`, a templated plan rendered
// with the value instead of the name) was refused with "... (the key itself never goes in a plan), found "<the
// key>"": whole when 40 characters or fewer (an Azure OpenAI key is 32 hex digits), its first 37 otherwise, on
// the terminal and in CI logs. What is found there is never shown.
import { expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { writePlan } from '../helpers/plans.js';
import path from 'node:path';

const AZURE_KEY = '0123456789abcdef0123456789abcdef';
const LONG_KEY = 'sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEf';

const plan = (upstreamKey: string, passEnv: string, tokenEnv: string, clientKeys: string): string => `name: key-in-plan
upstream:
  simulate: { seed: 1 }
  api_key_env: ${upstreamKey}
blue: { model: a }
green: { model: b }
stages:
  - { duration: 1m, green_weight: 0.5 }
hooks:
  pass_env: [${passEnv}]
  on_stage: { exec: ./set.sh }
proxy:
  client_keys_env: ${clientKeys}
  admin: { token_env: ${tokenEnv} }
`;

it('never shows the value found where a variable name belongs (api_key_env, pass_env, token_env, client_keys_env)', async () => {
  const keys = [AZURE_KEY, LONG_KEY, `${AZURE_KEY}x`, `x${LONG_KEY}`];
  const file = writePlan(plan(keys[0] as string, keys[1] as string, keys[2] as string, keys[3] as string));
  const cwd = path.dirname(file);
  for (const args of [
    ['validate', file],
    ['validate', file, '--json'],
    ['rollout', file, '--plain'],
  ]) {
    const run = await runCli(args, { cwd });
    expect(run.code, args.join(' ')).toBe(2);
    const output = run.stdout + run.stderr;
    for (const keyPath of ['upstream.api_key_env', 'hooks.pass_env[0]', 'proxy.admin.token_env', 'proxy.client_keys_env']) expect(output).toContain(keyPath);
    const said =
      'expected the name of an environment variable (the key itself never goes in a plan), found a value that is not one (not shown: it may be a key)';
    expect(output.split(said).length - 1, output).toBe(4);
    for (const key of keys) expect(output).not.toContain(key.slice(0, 12));
  }
});
