// The normalised request and result every dialect (OpenAI, Anthropic) maps to and from.
import type { ArmName } from '../plan/plan.js';
import type { FinishKind } from './finish.js';

export interface ChatMessage {
  role: string;
  /** A string, or the structured content parts a sampled request carried. */
  content: unknown;
  [extra: string]: unknown;
}

/** One request as the traffic sources produce it; the arm's model is filled in by the client. */
export interface ChatRequest {
  messages: ChatMessage[];
  /** Other parameters kept from a sampled request (temperature, top_p, ...); never model or stream. */
  params: Record<string, unknown>;
  stream: boolean;
  maxTokens: number;
  /** A user or conversation id: requests that carry one stay on one arm for a stage. */
  stickyKey?: string;
  /** Which source produced it, for the journal and reports. */
  source: 'synthetic' | 'sampled' | 'health';
}

/**
 * Why a request failed. `client_abort` is no upstream's answer: the proxy's client went away before the first
 * byte (a result only the results feed carries, so a rollout judges a green its clients give up on; see
 * src/analysis/aborts.ts). FAILURE_CLASSES lists the upstream ones.
 */
export type FailureClass = UpstreamFailureClass | 'client_abort';

export type UpstreamFailureClass = 'timeout' | 'connection' | 'rate_limited' | 'server_error' | 'client_error' | 'auth' | 'quota' | 'bad_response';

/** What an upstream exchange can fail with (the proxy's bluegreen_proxy_failures_total classes). */
export const FAILURE_CLASSES: readonly UpstreamFailureClass[] = [
  'timeout',
  'connection',
  'rate_limited',
  'server_error',
  'client_error',
  'auth',
  'quota',
  'bad_response',
];

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** The upstream reported no usage (vLLM, Ollama and some relays' streams): counted from characters. */
  estimated?: true;
}

export interface RateLimitInfo {
  remainingRequests?: number;
  remainingTokens?: number;
}

export interface UpstreamResult {
  arm: ArmName;
  /** The model asked for. */
  model: string;
  /** The model the upstream says served the request, when it says. */
  servedModel?: string;
  ok: boolean;
  /** HTTP status of the last attempt, when one came back. */
  status?: number;
  failure?: FailureClass;
  /** One sentence, no secrets. */
  errorMessage?: string;
  /** The answer's text only (reasoning and tool calls are not in it). */
  content: string;
  /** As the upstream said it (stop, end_turn, ...). */
  finishReason?: string;
  /** finishReason normalised: stop, length, tool_calls, content_filter, refusal, other. */
  finish?: FinishKind;
  /** Tool calls the answer made (a success, even with no text). */
  toolCalls?: number;
  /** The answer carried reasoning output (reasoning_content, thinking blocks). */
  reasoning?: true;
  /** The model refused (OpenAI `refusal`, Anthropic stop_reason refusal). */
  refusal?: true;
  usage?: Usage;
  /** From the first send to the end of the last attempt, retries included. */
  latencyMs: number;
  /**
   * A client abort's sticky client (a digest of its user or conversation id, never the id itself), when the
   * request named one: the comparisons count only a few of one client's aborts per stage (src/analysis/aborts.ts).
   * In the proxy's process, stickyClient's FNV digest; as the proxy's results feed and handover carry it out (what a
   * rollout records), an HMAC-SHA256 of that under a key derived from the admin token (src/proxy/client-digest.ts).
   */
  client?: string;
  /**
   * Out of every judged sample of its arm (docs/proxy.md, "Neutral results"): a plain client-error 4xx that says
   * nothing of the arm (src/proxy/neutral.ts), or a request stored state pinned to blue that the split never chose.
   * Counted apart per arm (ArmStats.neutral); only a proxy sets it.
   */
  neutral?: true;
  /** Time to the first content token, for streams: a failed stream's too when it had one (cut after it). */
  ttftMs?: number;
  /** 1 when the first attempt settled it; retries = attempts - 1. */
  attempts: number;
  stream: boolean;
  rateLimit?: RateLimitInfo;
}

export interface ModelList {
  ids: string[];
  status: number;
}
