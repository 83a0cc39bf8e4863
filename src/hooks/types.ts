// What a hook is told and what it reports back. Structurally the engine's HookCall, so runHook plugs in.

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

export interface HookOptions {
  /** The plan's folder: exec hooks run there. */
  cwd: string;
  /** Passed to exec hooks, with the BLUEGREEN_* variables added. */
  env: NodeJS.ProcessEnv;
  /** A webhook attempt's time limit; defaults to the hook's own timeout. */
  fetchTimeoutMs?: number;
  /** Aborting stops the hook (exec: the process group is killed; webhook: no further attempts). */
  signal?: AbortSignal;
  /** Waits between webhook attempts; injected so tests need not wait. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** The webhook backoff's jitter; default Math.random. */
  random?: () => number;
}
