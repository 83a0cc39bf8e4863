// Options that did nothing, in silence: `status --interval` without --watch, `sim --seed -1` (a seed the random
// source folds onto 4294967295), `rollout --dry-run --resume` (the dry run ignored --resume).
import { expect, it } from 'vitest';
import { simConfig } from '../../src/cli/commands/sim.js';
import { runCli } from '../helpers/cli.js';
import { planFromYaml, tempDir } from '../helpers/plans.js';

it('status --interval without --watch is refused (exit 2), saying to add --watch', async () => {
  const result = await runCli(['status', '--interval', '500', '--state-dir', 'st'], { cwd: tempDir() });
  expect(result.code).toBe(2);
  expect(result.stderr).toBe('bluegreen: --interval sets how often --watch rereads the state; add --watch (status without it reads once)\n');
});

it('sim --seed takes whole numbers from 0 to 4294967295, as rollout --seed does', () => {
  for (const seed of ['-1', '-2147483648', '1.5', '4294967296']) {
    expect(() => simConfig({ seed }, '.'), seed).toThrow(`--seed expects a whole number from 0 to 4294967295, got "${seed}"`);
  }
  expect(simConfig({ seed: '0' }, '.').seed).toBe(0);
  expect(simConfig({ seed: '4294967295' }, '.').seed).toBe(4294967295);
});

it("a plan's (or sim --config's) simulate.seed is refused below 0 the same way", () => {
  const yaml = `name: s
upstream: { simulate: { seed: -1 } }
blue: { model: a }
green: { model: b }
traffic: { rate: 1 }
stages: [{ duration: 1s, green_weight: 1 }]
`;
  expect(() => planFromYaml(yaml)).toThrow(/upstream\.simulate\.seed: must be a whole number from 0 to 4294967295, found -1/);
});
