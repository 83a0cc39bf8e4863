// finish_reason / stop_reason variants of every dialect, normalised to one small vocabulary.

export type FinishKind = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'refusal' | 'other';

const KINDS: Record<string, FinishKind> = {
  // OpenAI and compatibles (vLLM, Ollama, Gemini's compatible endpoint, relays)
  stop: 'stop',
  eos: 'stop',
  length: 'length',
  tool_calls: 'tool_calls',
  function_call: 'tool_calls',
  content_filter: 'content_filter',
  // Anthropic
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'refusal',
  // Gemini's native names, which some relays pass through
  max_tokens_reached: 'length',
  safety: 'content_filter',
  recitation: 'content_filter',
  blocklist: 'content_filter',
  prohibited_content: 'content_filter',
};

/** The normalised kind of a finish reason; undefined when the upstream gave none. */
export function normaliseFinish(reason: string | undefined): FinishKind | undefined {
  if (reason === undefined || reason === '') return undefined;
  return KINDS[reason.toLowerCase()] ?? 'other';
}
