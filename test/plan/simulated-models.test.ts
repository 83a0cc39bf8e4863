// A simulated upstream answers a model with no profile of its own and no `default` with 404: validate warns of it
// (the plan knows), and preflight no longer warns of the simulator's models list as of a relay's (newuser30: a plan
// with only simulate.default was told "http://127.0.0.1:N/v1/models listed no models", a URL its author never wrote,
// and one with green missing from simulate.models passed validate and rolled back on 404s).
import { describe, expect, it } from 'vitest';
import { planWarnings } from '../../src/plan/warnings.js';
import { openEndpoints } from '../../src/cli/endpoints.js';
import { preflight } from '../../src/upstream/preflight.js';
import { ARMS } from '../../src/plan/plan.js';
import { planFromYaml, tempDir } from '../helpers/plans.js';

const plan = (simulate: string) =>
  planFromYaml(`name: sim-models
upstream: { simulate: ${simulate} }
blue: { model: small-a }
green: { model: small-b }
traffic: { rate: 20 }
stages: [{ duration: 30s, green_weight: 0.5 }]
`);

const modelWarnings = (simulate: string) => planWarnings(plan(simulate)).filter((warning) => warning.keyPath.endsWith('.model'));

describe('a simulated upstream and the arms’ models', () => {
  it('warns of an arm whose model the simulator would answer 404', () => {
    expect(modelWarnings('{ models: { small-a: {} } }')).toEqual([
      {
        keyPath: 'green.model',
        message:
          'small-b has no profile in the simulated upstream (its simulate.models lists small-a, and it has no default): the simulator answers every green request 404 (model not found); add small-b under simulate.models, or set simulate.default (`default: {}` for the default profile)',
      },
    ]);
  });

  it('warns of both arms when the simulator lists no models and has no default (newuser32: `simulate: {}` rolled back on 404s)', () => {
    const said = (arm: string, model: string) =>
      `${model} has no profile in the simulated upstream (its simulate block lists no models, and it has no default): the simulator answers every ${arm} request 404 (model not found); add ${model} under simulate.models, or set simulate.default (\`default: {}\` for the default profile)`;
    for (const simulate of ['{}', '{ models: {} }', '{ seed: 3 }']) {
      expect(modelWarnings(simulate)).toEqual([
        { keyPath: 'blue.model', message: said('blue', 'small-a') },
        { keyPath: 'green.model', message: said('green', 'small-b') },
      ]);
    }
  });

  it('says nothing when each model has a profile, or default serves it', () => {
    expect(modelWarnings('{ models: { small-a: {}, small-b: {} } }')).toEqual([]);
    expect(modelWarnings('{ default: {} }')).toEqual([]);
  });

  it('preflight of a simulator serving every model through default warns of nothing', async () => {
    const endpoints = await openEndpoints(plan('{ default: {} }'));
    try {
      const report = await preflight(
        ARMS.map((arm) => endpoints.arms[arm]),
        { env: {}, cwd: tempDir() },
      );
      expect(report.warnings).toEqual([]);
    } finally {
      await endpoints.close();
    }
  });
});
