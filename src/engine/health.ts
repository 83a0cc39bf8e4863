// The green upstream's health check, every health_check.interval: its models list answers, or (probe: chat)
// a tiny chat request to green's model succeeds. Failures in a row count.
import { formatDuration } from '../core/format.js';
import type { HealthCheckConfig } from '../plan/schema.js';
import { probeRequest } from '../upstream/probe.js';
import { SignalWatch } from '../upstream/signal-watch.js';
import type { ArmClient } from './deps.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { errorText } from '../core/errors.js';

export interface HealthState {
  consecutiveFailures: number;
  failuresToRollback: number;
  lastError?: string;
  checks: number;
}

/** The journal's line when the check's result changes: failing, or passing again. */
export function healthChange(ok: boolean, state: HealthState): ['health_check_recovered' | 'health_check_failed', string] {
  return ok
    ? ['health_check_recovered', 'green health check passes again']
    : ['health_check_failed', `green health check failed: ${state.lastError ?? 'error'}`];
}

export class HealthChecker {
  private timer?: TimerHandle;
  private running = false;
  /** Green starts out presumed healthy: the first failure is a change worth saying. */
  private lastOk = true;
  private readonly state: HealthState;

  constructor(
    private readonly config: HealthCheckConfig,
    private readonly client: ArmClient,
    private readonly clock: Clock,
    /** Told after each check, with whether it passed and whether that changed, so the engine can judge at once. */
    private readonly onResult: (ok: boolean, state: HealthState, changed: boolean) => void,
  ) {
    this.state = { consecutiveFailures: 0, failuresToRollback: config.failures_to_rollback, checks: 0 };
  }

  start(): void {
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
  }

  current(): HealthState {
    return { ...this.state };
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.clock.setTimer(() => void this.check(), this.config.interval);
  }

  private async check(): Promise<void> {
    const controller = new AbortController();
    // The probe's own signal: one request on it.
    const cancel = new SignalWatch(controller.signal);
    const timeout = this.clock.setTimer(() => controller.abort(new Error('timed out')), this.config.timeout);
    let ok: boolean;
    try {
      if (this.config.probe === 'chat') {
        const result = await this.client.send(probeRequest(), cancel);
        ok = result.ok;
        if (!ok) this.state.lastError = `chat probe failed: ${result.errorMessage ?? result.failure ?? 'error'}`;
      } else {
        const list = await this.client.listModels(cancel);
        ok = list.status >= 200 && list.status < 300;
        if (!ok) this.state.lastError = `models list answered ${list.status}`;
      }
    } catch (error) {
      ok = false;
      this.state.lastError = controller.signal.aborted ? `no answer within ${formatDuration(this.config.timeout)}` : errorText(error);
    } finally {
      timeout.cancel();
    }
    if (!this.running) return;
    this.state.checks++;
    this.state.consecutiveFailures = ok ? 0 : this.state.consecutiveFailures + 1;
    const changed = ok !== this.lastOk;
    this.lastOk = ok;
    this.onResult(ok, this.current(), changed);
    this.schedule();
  }
}
