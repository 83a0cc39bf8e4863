// The worker of load-in-worker.ts: loads and validates one plan with loadPlan, as `validate` and `rollout` do, and
// posts the plan (plain data) or the plan's problems; the thread then exits, and the schema with it.
import { parentPort, workerData } from 'node:worker_threads';
import { loadPlan } from './load.js';
import { PlanError } from './errors.js';
import type { PlanLoaded, PlanToLoad } from './load-in-worker.js';

/** The plan in `file`, or its problems. */
function loadOne({ file, cwd }: PlanToLoad): PlanLoaded {
  try {
    return { plan: loadPlan(file, cwd) };
  } catch (error) {
    // Anything else is a bug: thrown on, it reaches the parent's 'error' listener (a structured clone of it).
    if (!(error instanceof PlanError)) throw error;
    return { problems: error.problems, omitted: error.omitted };
  }
}

parentPort?.postMessage(loadOne(workerData as PlanToLoad));
