// Hooks: the actuators that move real traffic (exec a script, or call a webhook) on stage, rollback, promote, abort.
import { withoutSecrets } from '../core/redact.js';
import type { HookConfig } from '../plan/schema.js';
import { runExec } from './exec.js';
import { realSleep } from '../core/clock.js';
import { scrubUrl } from './text.js';
import type { HookEvent, HookOptions, HookOutcome } from './types.js';
import { runWebhook } from './webhook.js';
import { errorText } from '../core/errors.js';

export type { HookEvent, HookEventName, HookOptions, HookOutcome, HookSecrets } from './types.js';
export { hookEnv, runExec, type ExecOptions } from './exec.js';
export { runWebhook, webhookPayload, type WebhookOptions } from './webhook.js';
export { hookUrlSecrets, safeUrl } from './text.js';

/**
 * Runs one hook and reports how it went. Never rejects: a failing hook is the engine's to judge (it records
 * it and carries on rolling back), not a crash. hook.timeout bounds the exec run, or each webhook attempt.
 */
export async function runHook(hook: HookConfig, event: HookEvent, options: HookOptions): Promise<HookOutcome> {
  const secrets = options.secrets;
  if (!secrets) return runUnredacted(hook, event, options);
  const { redactor, envNames, passEnv } = secrets;
  // The reason may quote an earlier hook's or the upstream's words; the outcome may quote this hook's output.
  const safeEvent = event.reason === undefined ? event : { ...event, reason: redactor.text(event.reason) };
  const env = withoutSecrets(options.env, envNames, redactor, passEnv);
  return redactor.value(await runUnredacted(hook, safeEvent, { ...options, env }, (text) => redactor.text(text)));
}

async function runUnredacted(hook: HookConfig, event: HookEvent, options: HookOptions, redact?: (text: string) => string): Promise<HookOutcome> {
  try {
    if (hook.exec !== undefined) {
      return await runExec(hook.exec, event, {
        cwd: options.cwd,
        env: options.env,
        timeoutMs: hook.timeout,
        signal: options.signal,
        onStart: options.onStart,
        redact,
      });
    }
    if (hook.webhook !== undefined) {
      return await runWebhook(hook.webhook, event, {
        attemptTimeoutMs: options.fetchTimeoutMs ?? hook.timeout,
        retries: hook.retries,
        sleep: options.sleep ?? realSleep,
        random: options.random,
        signal: options.signal,
        redact,
      });
    }
    return { ok: false, kind: 'exec', durationMs: 0, message: 'hook has neither exec nor webhook' };
  } catch (error) {
    // A bug below must not take the rollback down with it.
    const text = `hook failed unexpectedly: ${errorText(error)}`;
    const kind = hook.exec !== undefined ? 'exec' : 'webhook';
    return { ok: false, kind, durationMs: 0, message: hook.webhook ? scrubUrl(text, hook.webhook) : text };
  }
}
