// A symbolic link loop (`ln -s a b; ln -s b a`) as the plan, a file it names or the state folder: said in words,
// exit 2 as other file errors (loose19: "ELOOP: too many symbolic links encountered, open ..." was shown raw, and a
// prompts file in a loop was said "not found").
import { symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir, writePlan } from '../helpers/plans.js';

const LOOP = 'its path goes round a loop of symbolic links';

/** A folder with `loop-a` and `loop-b` pointing at each other. */
function loopFolder(): string {
  const cwd = tempDir();
  symlinkSync('loop-b', path.join(cwd, 'loop-a'));
  symlinkSync('loop-a', path.join(cwd, 'loop-b'));
  return cwd;
}

const plan = (prompts?: string) => `
name: loop
upstream:
  simulate: { models: { a: {}, b: {} } }
blue: { model: a }
green: { model: b }
traffic: { rate: 5${prompts ? `, synthetic: { share: 1, prompts: ${prompts} }` : ''} }
stages:
  - { duration: 1s, green_weight: 0.5 }
`;

describe('a symbolic link loop', () => {
  it('as the plan: exit 2, said in words', async () => {
    const result = await runCli(['validate', 'loop-a'], { cwd: loopFolder() });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`loop-a:1:1 cannot read the file (${LOOP})\n`);
  });

  it('as a file the plan names: exit 2, not "file not found"', async () => {
    const cwd = loopFolder();
    writePlan(plan('loop-a'), cwd);
    const result = await runCli(['validate', 'plan.yaml'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`traffic.synthetic.prompts: cannot read ${path.join(cwd, 'loop-a')}: ${LOOP}`);
  });

  it('as the state folder of status and rollout: exit 2, said in words', async () => {
    const cwd = loopFolder();
    writePlan(plan(), cwd);
    const status = await runCli(['status', '--state-dir', 'loop-a'], { cwd });
    expect(status.code).toBe(2);
    expect(status.stderr).toBe(`bluegreen: cannot read ${path.join(cwd, 'loop-a', 'state.json')}: ${LOOP}\n`);
    const rollout = await runCli(['rollout', 'plan.yaml', '--plain', '--state-dir', 'loop-a'], { cwd });
    expect(rollout.code).toBe(2);
    expect(rollout.stderr).toContain(`cannot create the state folder ${path.join(cwd, 'loop-a')}: ${LOOP}`);
    expect(rollout.stderr).not.toContain('ELOOP');
  });
});
