// The engine tests' usual rollout on the fake clock: two 2 s stages (half green, then all green) at 20 req/s on a
// simulated upstream with a 5 s request timeout, run by an engine whose events and saved states are kept in memory.
import type { EngineDeps } from '../../src/engine/deps.js';
import { RolloutEngine } from '../../src/engine/rollout.js';
import type { RolloutEvent, RolloutSnapshot } from '../../src/engine/types.js';
import { SAME_REQUEST } from './fake-deps.js';
import { halfThenAll, planYaml } from '../helpers/plans.js';

/** Each stage's length in the plan below. */
export const TWO_STAGE_MS = 2_000;

/**
 * The plan's YAML: `analysis` is the analysis block's lines, `upstream` is added to the upstream's flow mapping
 * (`, retries: { max: 0 }`), `more` is appended (a hooks block).
 */
export function twoStagePlan(name: string, analysis: string[], options: { upstream?: string; more?: string } = {}): string {
  return planYaml({
    name,
    upstream: `simulate: { models: {} }, timeout: { request: 5s }${options.upstream ?? ''}`,
    traffic: 'rate: 20',
    stages: halfThenAll('2s'),
    analysis,
    more: options.more,
  });
}

/** Below 100% green, every other request to green (the first to blue); none at 0, all at 100%. */
function alternatingSplitter(): EngineDeps['splitter'] {
  let turn = 0;
  return { choose: (weight) => (weight >= 1 ? 'green' : weight <= 0 ? 'blue' : turn++ % 2 ? 'green' : 'blue') };
}

type OwnDeps = 'traffic' | 'splitter' | 'persistence' | 'runHook' | 'pid';

/**
 * An engine keeping its journal in `events` and each state it saves in `states`, sending SAME_REQUEST through the
 * alternating splitter, its hooks answering "exited 0" at once unless `deps` says otherwise.
 */
export function recordedEngine(deps: Omit<EngineDeps, OwnDeps> & Partial<Pick<EngineDeps, OwnDeps>>) {
  const events: RolloutEvent[] = [];
  const states: RolloutSnapshot[] = [];
  const engine = new RolloutEngine({
    traffic: SAME_REQUEST,
    splitter: alternatingSplitter(),
    persistence: { appendEvent: (e) => events.push(e), writeState: (s) => void states.push(s) },
    runHook: async () => ({ ok: true, message: 'exited 0' }),
    pid: 4242,
    ...deps,
  });
  return { engine, events, states };
}
