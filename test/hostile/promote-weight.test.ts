// A plan whose last stage sends green less than all traffic still promotes green to 100% ("b takes 100% of
// traffic"), but its on_promote hook was told BLUEGREEN_GREEN_WEIGHT=0.5 (and the on_stage stand-in for a missing
// on_promote too, which docs/operations.md says is told 1), and status said "green 50%" after the promotion: a
// hook setting the weight it is told left half the traffic on blue (found by hostile24).
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { simulatedStagesPlan } from '../helpers/plans.js';

let dir: string;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'bluegreen-hostile-promote-')));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it.each(['on_promote', 'on_stage'])('%s is told green 1 on a promotion after a last stage at half, and state.json says 1', async (hook) => {
  const plan = `${simulatedStagesPlan('half-last', [{ duration: '1s', weight: 0.5 }])}hooks:
  ${hook}: { exec: 'echo "$BLUEGREEN_EVENT $BLUEGREEN_GREEN_WEIGHT $BLUEGREEN_GREEN_PERCENT" >> hook.log' }
`;
  writeFileSync(path.join(dir, 'plan.yaml'), plan);
  const run = await runCli(['rollout', 'plan.yaml', '--plain', '--state-dir', 'st'], { cwd: dir });
  expect(run.code).toBe(0);
  const told = readFileSync(path.join(dir, 'hook.log'), 'utf8').trim().split('\n');
  expect(told.at(-1)).toBe('promote 1 100');
  const state = JSON.parse(readFileSync(path.join(dir, 'st', 'state.json'), 'utf8')) as { phase: string; greenWeight: number };
  expect(state).toMatchObject({ phase: 'promoted', greenWeight: 1 });
});
