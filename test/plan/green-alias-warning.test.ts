// review36: proxy.alias naming green's own model passed validate silently, and the proxy then split requests asking
// for green by name as blue's, answering blue's share of them (all of them outside a stage) with blue.
import { expect, it } from 'vitest';
import { planWarnings } from '../../src/plan/warnings.js';
import { planFromYaml } from '../helpers/plans.js';

const aliasWarnings = (alias: string) =>
  planWarnings(
    planFromYaml(`
name: green-alias
upstream:
  simulate: { models: { gpt-4o: {}, gpt-4.1: {} } }
blue: { model: gpt-4o }
green: { model: gpt-4.1 }
stages:
  - { duration: 1m, green_weight: 0.5 }
proxy: { admin: { token_env: T }, alias: ${alias} }
`),
  ).filter((warning) => warning.keyPath.startsWith('proxy.alias'));

it("warns of an alias naming green's model, at its place in the list, and says why", () => {
  const [warning, ...more] = aliasWarnings('[chat-default, gpt-4.1]');
  expect(more).toEqual([]);
  expect(warning?.keyPath).toBe('proxy.alias[1]');
  expect(warning?.message).toMatch(/^names green's model \(gpt-4\.1\): a request asking for gpt-4\.1 by name is then split as blue's model is/);
  expect(warning?.message).toContain('is answered by gpt-4o, not the model the application asked for');
  expect(aliasWarnings('gpt-4.1').map((found) => found.keyPath)).toEqual(['proxy.alias']);
});

it('says nothing of aliases that are other names', () => {
  expect(aliasWarnings('[chat-default, gpt-4]')).toEqual([]);
  expect(aliasWarnings('gpt-4.1-mini')).toEqual([]);
});
