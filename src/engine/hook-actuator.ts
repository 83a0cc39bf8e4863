// The plan's hooks as an actuator: on_stage for each stage, on_rollback / on_abort / on_promote at the end.
// A hook still running when the rollout ends is stopped (its process group killed) before the ending's hook
// runs, so a slow `set-weight 0.5` can never land after `set-weight 0`.
import type { Clock } from '../core/clock.js';
import type { HookConfig } from '../plan/schema.js';
import type { Plan } from '../plan/plan.js';
import type { Actuator, ActuationResult, EndingMove, StageMove } from './actuator.js';
import type { HookEventName, HookRunner } from './deps.js';
import { endingHook } from '../hooks/ending-hook.js';
import { formatDuration } from '../core/format.js';

export class HookActuator implements Actuator {
  private readonly running = new Set<{ controller: AbortController; done: Promise<unknown>; what: string }>();
  /** The weight on_stage last set, known only once it succeeded: a stand-in on_stage need not set it again. */
  private stageWeight: number | undefined;

  constructor(
    private readonly plan: Plan,
    private readonly runHook: HookRunner,
    private readonly clock: Clock,
  ) {}

  async applyStage(move: StageMove): Promise<ActuationResult[]> {
    const hook = this.plan.hooks?.on_stage;
    if (!hook) return [];
    this.stageWeight = undefined;
    const result = await this.run(hook, 'on_stage hook', 'stage', move);
    if (result.ok) this.stageWeight = move.greenWeight;
    return [result];
  }

  async applyEnding(move: EndingMove): Promise<ActuationResult[]> {
    const chosen = endingHook(this.plan.hooks, move.event);
    if (!chosen) return [];
    // A promotion after a last stage at 100% (or an abort in a shadow stage at 0) is already where on_stage put it.
    if (chosen.hook === this.plan.hooks?.on_stage && this.stageWeight === move.greenWeight) return [];
    return [await this.run(chosen.hook, chosen.label, move.event, move, move.reason)];
  }

  async cancel(): Promise<void> {
    const running = [...this.running];
    for (const entry of running) entry.controller.abort(new Error('the rollout is ending'));
    await Promise.all(running.map((entry) => entry.done));
  }

  /** "the on_promote hook (exec, up to its 60s timeout)": the kind, not the command, which may carry a secret. */
  busy(): string | undefined {
    for (const entry of this.running) return entry.what;
    return undefined;
  }

  private async run(hook: HookConfig, label: string, event: HookEventName, move: StageMove, reason?: string): Promise<ActuationResult> {
    const { plan } = this;
    const controller = new AbortController();
    const done = this.runHook(
      hook,
      {
        event,
        plan: plan.name,
        stage: move.stage + 1,
        stages: move.stages,
        greenWeight: move.greenWeight,
        blueModel: plan.arms.blue.model,
        greenModel: plan.arms.green.model,
        reason,
        at: this.clock.now(),
      },
      controller.signal,
    );
    const limit =
      hook.exec !== undefined
        ? `exec, up to its ${formatDuration(hook.timeout)} timeout`
        : `webhook, up to ${formatDuration(hook.timeout)} a try, ${hook.retries} retries`;
    const entry = { controller, done, what: `the ${label} (${limit})` };
    this.running.add(entry);
    try {
      const result = await done;
      return { ok: result.ok, label, message: result.message };
    } finally {
      this.running.delete(entry);
    }
  }
}
