// A simulated upstream for one test, written as a plan's `upstream.simulate` block and read through the plan's own
// schema, closed when the test ends.
import { parseWithSchema } from '../../src/plan/load.js';
import { simulateSchema } from '../../src/plan/sim-schema.js';
import { startSimulator, type SimulatorHandle, type SimulatorOptions } from '../../src/sim/index.js';
import { closeAfterTest } from './close-after-test.js';
import { FakeClock, heldOn } from './fake-clock.js';

/**
 * `yaml` is the simulate block, e.g. `{ seed: 3, models: { blue-m: { latency: { p50: 3ms, p95: 8ms } } } }`.
 * `options.now` lets a test move the simulator's `changes[].at` clock on an event instead of wall time.
 */
export async function simulatorFromYaml(yaml: string, options?: SimulatorOptions): Promise<SimulatorHandle> {
  return closeAfterTest(await startSimulator(parseWithSchema('simulate.yaml', yaml, simulateSchema).value, options));
}

/** A simulator whose answers wait on a fake clock, for the rollout to run and time its requests on (see pace()). */
export interface SimulatorOnClock {
  sim: SimulatorHandle;
  /** The rollout's clock: pass it to runRollout, and this to pace(), so each latency is exactly the simulator's draw. */
  clock: FakeClock;
  /** The requests the simulator holds on the clock (heldOn). */
  held: () => number;
}

/** simulatorFromYaml, its answers' delays (and, without `options.now`, its `changes[].at`) on a new fake clock. */
export async function simulatorOnClock(yaml: string, options?: Omit<SimulatorOptions, 'clock'>): Promise<SimulatorOnClock> {
  // Its answers fall due at fractions of a millisecond: the wall clock the rollout writes down stays whole.
  const clock = new FakeClock(Date.now(), { wholeMs: true });
  const { clock: simClock, held } = heldOn(clock);
  const sim = await simulatorFromYaml(yaml, { ...options, clock: simClock });
  return { sim, clock, held };
}
