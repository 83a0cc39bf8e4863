// What a hook is told and what it reports back. Structurally the engine's HookCall, so runHook plugs in.
import type { Redactor } from '../core/redact.js';

export type HookEventName = 'stage' | 'rollback' | 'promote' | 'abort';

export interface HookEvent {
  event: HookEventName;
  plan: string;
  /** One-based stage number. */
  stage: number;
  stages: number;
  greenWeight: number;
  blueModel: string;
  greenModel: string;
  reason?: string;
  /** Epoch ms. */
  at: number;
}

export interface HookOutcome {
  ok: boolean;
  kind: 'exec' | 'webhook';
  durationMs: number;
  /** One sentence, safe to print and persist (a webhook's query string never appears). */
  message: string;
  /** exec: the exit code, when the command exited on its own. */
  exitCode?: number;
  /** exec: the last few KB of each stream, for a closer look; not printed by default. */
  stdout?: string;
  stderr?: string;
  /** webhook: how many requests were sent, and the last status seen. */
  attempts?: number;
  status?: number;
}

/** What a hook must not see or leak: key values (redacted from its environment, reason and output) and key variables. */
export interface HookSecrets {
  redactor: Redactor;
  /** Variables withheld from exec hooks (every api_key_env), unless listed in passEnv. */
  envNames: readonly string[];
  /** The plan's `hooks.pass_env`: key variables a hook is allowed to see. */
  passEnv?: readonly string[];
}

export interface HookOptions {
  /** The plan's folder: exec hooks run there. */
  cwd: string;
  /** Passed to exec hooks, with the BLUEGREEN_* variables added. */
  env: NodeJS.ProcessEnv;
  /** A webhook attempt's time limit; defaults to the hook's own timeout. */
  fetchTimeoutMs?: number;
  /** Aborting stops the hook (exec: the process group is killed; webhook: no further attempts). */
  signal?: AbortSignal;
  /** Keys the hook must not see or echo into a message; without it the environment passes unchanged. */
  secrets?: HookSecrets;
  /** exec: told the hook's process group id; the command starts only once this has returned. */
  onStart?: (pgid: number) => void;
  /** Waits between webhook attempts; injected so tests need not wait. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** The webhook backoff's jitter; default Math.random. */
  random?: () => number;
}
