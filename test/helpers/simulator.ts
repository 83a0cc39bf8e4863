// A simulated upstream for one test, written as a plan's `upstream.simulate` block and read through the plan's own
// schema, closed when the test ends.
import { parseWithSchema } from '../../src/plan/load.js';
import { simulateSchema } from '../../src/plan/schema.js';
import { startSimulator, type SimulatorHandle, type SimulatorOptions } from '../../src/sim/index.js';
import { closeAfterTest } from './close-after-test.js';

/**
 * `yaml` is the simulate block, e.g. `{ seed: 3, models: { blue-m: { latency: { p50: 3ms, p95: 8ms } } } }`.
 * `options.now` lets a test move the simulator's `changes[].at` clock on an event instead of wall time.
 */
export async function simulatorFromYaml(yaml: string, options?: SimulatorOptions): Promise<SimulatorHandle> {
  return closeAfterTest(await startSimulator(parseWithSchema('simulate.yaml', yaml, simulateSchema).value, options));
}
