// The library entry point's one function of its own: run a rollout from code, as `bluegreen rollout` does,
// with events delivered to a callback instead of a dashboard, and an AbortSignal in place of Ctrl-C.
import { EventEmitter } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import { runRollout } from './cli/run-rollout.js';
import type { CliContext } from './cli/context.js';
import type { RolloutEvent, RolloutSnapshot } from './engine/types.js';
import { loadPlan } from './plan/load.js';
import type { Plan } from './plan/plan.js';

export interface RolloutOptions {
  /** A plan file's path (resolved against cwd), or a plan already loaded with loadPlan(). */
  plan: string | Plan;
  /** Default `.bluegreen` in cwd, as the CLI. */
  stateDir?: string;
  /** Seeds the traffic mix and the sticky split; default 1. */
  seed?: number;
  /** Every event the rollout journals, as it happens. */
  onEvent?: (event: RolloutEvent) => void;
  /** Aborting it aborts the rollout: traffic goes back on blue and the result's exitCode is 4. */
  signal?: AbortSignal;
  /** Variables the plan's api_key_env names are read from here; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Where relative paths resolve; default process.cwd(). */
  cwd?: string;
  /**
   * What the CLI would say on stderr: the start's warnings (a stale lock taken over, preflight notes) when the start
   * fails; default: dropped. A rollout that runs journals them instead, as `warning` events (onEvent).
   */
  onWarning?: (message: string) => void;
}

export interface RolloutResult {
  /** The CLI's exit code for the same outcome (0 promoted, 10 rolled back, 4 aborted, ...). */
  exitCode: number;
  /** The final snapshot: phase, reason, breach, per-stage figures. */
  snapshot: RolloutSnapshot;
}

/**
 * Runs a rollout to its end. Rejects with an error carrying `exitCode` (2, 3) for a plan, lock or preflight
 * failure, as the CLI would exit with it.
 */
export async function rollout(options: RolloutOptions): Promise<RolloutResult> {
  const cwd = options.cwd ?? process.cwd();
  const plan = typeof options.plan === 'string' ? loadPlan(options.plan, cwd) : options.plan;
  const ctx: CliContext = {
    stdout: new PassThrough(),
    stderr: new Writable({
      write(chunk: Buffer, _encoding, done) {
        options.onWarning?.(
          chunk
            .toString('utf8')
            .replace(/^bluegreen: warning: /, '')
            .trimEnd(),
        );
        done();
      },
    }),
    stdin: new PassThrough(),
    env: options.env ?? process.env,
    cwd,
    exitCode: 0,
  };
  let snapshot: RolloutSnapshot | undefined;
  const exitCode = await runRollout({
    plan,
    stateDir: options.stateDir ?? `${cwd}/.bluegreen`,
    seed: options.seed ?? 1,
    ctx,
    // The library never takes over the process's signals: the caller has the AbortSignal.
    signals: new EventEmitter(),
    attachReporter: (engine) => {
      const unsubscribe = options.onEvent ? engine.onEvent(options.onEvent) : () => undefined;
      const onAbort = (): void => engine.abort('library caller');
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener('abort', onAbort, { once: true });
      return {
        finish: (_outcome, final) => {
          snapshot = final;
          unsubscribe();
          options.signal?.removeEventListener('abort', onAbort);
          return Promise.resolve();
        },
      };
    },
  });
  if (!snapshot) throw new Error('the rollout ended without a final snapshot');
  return { exitCode, snapshot };
}
