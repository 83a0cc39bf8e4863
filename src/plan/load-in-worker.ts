// Loading a plan in a worker thread that exits, for the long-running `bluegreen proxy`: loaded here, the plan's
// schema (zod's ~95 modules, ~4 MB of heap) would stay for good, since an ES module is never unloaded, and every
// mark-compact of the proxy would mark it again (docs/benchmarks-history.md, session 22). The worker runs the same loadPlan
// (plan-worker.ts) and hands back the plan, plain data, by structured clone; a bad plan's problems come back and are
// thrown here as the same PlanError (same message, exit 2). Short-lived commands (`validate`, `rollout`) load plans
// in-process: a worker would cost them its start-up and save nothing, their heap going away with them.
import { Worker } from 'node:worker_threads';
import { PlanError, type PlanProblem } from './errors.js';
import type { Plan } from './plan.js';

export interface PlanToLoad {
  file: string;
  cwd: string;
}

export type PlanLoaded = { plan: Plan } | { problems: PlanProblem[]; omitted: number };

/**
 * The built worker, the bundle's entry (tools/bundle-cli.js: a few chunks, not ~120 files), the same file whether this
 * module runs from dist/bundle/, dist/plan/ or src/plan/ (the tests, which build dist/ first): a worker thread runs
 * JavaScript only.
 */
const WORKER = new URL('../../dist/bundle/plan-worker.js', import.meta.url);

/**
 * loadPlan(file, cwd), run in a worker thread. `stop` ends the worker (a signal while a named pipe's writer is
 * waited for): a worker still running would keep the process alive, and its exit waiting, for good.
 */
export function loadPlanInWorker(file: string, cwd: string, stop?: AbortSignal): Promise<Plan> {
  return new Promise((resolve, reject) => {
    let loaded: PlanLoaded | undefined;
    const worker = new Worker(WORKER, { workerData: { file, cwd } satisfies PlanToLoad });
    const onStop = () => void worker.terminate();
    stop?.addEventListener('abort', onStop, { once: true });
    worker.once('message', (message: PlanLoaded) => (loaded = message));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      stop?.removeEventListener('abort', onStop);
      if (loaded === undefined) reject(new Error(`the plan's loader stopped (exit ${code}) without an answer`));
      else if ('plan' in loaded) resolve(loaded.plan);
      else reject(new PlanError(loaded.problems, loaded.omitted));
    });
  });
}
