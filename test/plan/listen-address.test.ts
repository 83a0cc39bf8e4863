// proxy.listen and proxy.admin.listen: one problem each, saying what is wanted. `nowhere` (no port at all) also got
// "the port must be at most 65535", about a port it does not have.
import { expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { planRefusal, simulatedStagesPlan, tempDir, writePlan } from '../helpers/plans.js';

const withListen = (listen: string) => `${simulatedStagesPlan('listen', [{ duration: '2s', weight: 0.5 }])}\nproxy: { listen: ${listen} }\n`;

it('an address without a port is one problem: not HOST:PORT', () => {
  const refusal = planRefusal(withListen('nowhere'));
  expect(refusal).toMatch(/proxy\.listen: expected HOST:PORT, like 127\.0\.0\.1:8787, found "nowhere"/);
  expect(refusal).not.toContain('65535');
  expect(planRefusal(withListen('127.0.0.1:70000'))).toMatch(/proxy\.listen: the port must be at most 65535, found "127\.0\.0\.1:70000"/);
});

it('validate exits 2 with the one problem', async () => {
  const dir = tempDir();
  writePlan(withListen('nowhere'), dir);
  const result = await runCli(['validate', 'plan.yaml'], { cwd: dir });
  expect(result.code).toBe(2);
  expect(result.stderr.trim().split('\n')).toEqual([
    expect.stringMatching(/plan\.yaml:\d+:\d+ proxy\.listen: expected HOST:PORT, like 127\.0\.0\.1:8787, found "nowhere"$/),
  ]);
});
