// fixb33: after rollout() returned, while bin/bluegreen.js waited for stdout and stderr to drain before exiting, no
// stop-signal listener was left: a SIGTERM there killed a promoted rollout with 143. In the CLI process (exitsAfterMain)
// the hold after the end (stop-signals.ts) now lasts to the exit; in-process callers still get it let go.
import { EventEmitter } from 'node:events';
import { expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { testContext } from '../helpers/cli.js';
import { simulatedPlan, tempDir, writePlan } from '../helpers/plans.js';

const SAID =
  "bluegreen: SIGTERM after the rollout ended (promoted, exit 0): nothing is left to stop; its reports are written and the exit code stays the rollout's";

async function promoted(exitsAfterMain: boolean): Promise<{ signals: EventEmitter; err: () => string; exits: number[] }> {
  const dir = tempDir();
  writePlan(simulatedPlan('flush-signal', '200ms', 0.5), dir);
  const signals = new EventEmitter();
  const exits: number[] = [];
  const ctx = { ...testContext({ cwd: dir }), signals, ...(exitsAfterMain && { exitsAfterMain: (code: number) => void exits.push(code) }) };
  expect(await main(['node', 'bluegreen', 'rollout', 'plan.yaml', '--ci'], ctx)).toBe(0);
  return { signals, err: ctx.err, exits };
}

it("a SIGTERM after main returned, while the CLI flushes its output, is said and exits at once with 0, the rollout's code", async () => {
  const { signals, err, exits } = await promoted(true);
  expect(signals.listenerCount('SIGTERM')).toBe(1);
  expect(exits).toEqual([]);
  signals.emit('SIGTERM');
  expect(err()).toContain(SAID);
  // And exits at once with the rollout's code: a reader that stopped reading must not leave it deaf to SIGTERM.
  expect(exits).toEqual([0]);
  signals.emit('SIGTERM');
  expect(exits).toEqual([0, 0]);
  expect(err().split(SAID).length - 1).toBe(1);
});

it('in-process (no exit after main), the hold is let go as main returns', async () => {
  const { signals } = await promoted(false);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) expect(signals.listenerCount(signal)).toBe(0);
});
