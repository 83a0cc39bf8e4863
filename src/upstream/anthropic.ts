// Anthropic Messages API: POST {base}/messages, x-api-key, events message_start … message_stop.
import type { Dialect, DialectReply, ParseOutcome, StreamReader, StreamStep } from './dialect.js';
import { isObject, makeUsage, num, parseJson, str, textOf } from './shape.js';
import type { ChatMessage, ChatRequest, Usage } from './types.js';

export const ANTHROPIC_VERSION = '2023-06-01';

// Sampled traffic is usually captured in the OpenAI shape; Anthropic answers 400 to unknown fields, so only
// parameters it understands are passed on.
const PASSED_PARAMS = new Set(['temperature', 'top_p', 'top_k', 'stop_sequences', 'thinking', 'service_tier']);

function systemPrompt(messages: ChatMessage[]): string | undefined {
  const parts = messages.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => textOf(m.content));
  return parts.length > 0 ? parts.join('\n\n') : undefined;
}

function anthropicBody(model: string, request: ChatRequest): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(request.params)) {
    if (PASSED_PARAMS.has(key)) params[key] = value;
  }
  // OpenAI's `stop` (string or list) is Anthropic's `stop_sequences` (list).
  const stop = request.params.stop;
  if (params.stop_sequences === undefined && stop !== undefined && stop !== null) {
    params.stop_sequences = Array.isArray(stop) ? stop : [stop];
  }
  const system = systemPrompt(request.messages);
  return {
    ...params,
    model,
    max_tokens: request.maxTokens,
    ...(system !== undefined ? { system } : {}),
    // Extra OpenAI fields (name, ...) are dropped: the Messages API rejects them.
    messages: request.messages
      .filter((m) => m.role !== 'system' && m.role !== 'developer')
      .map((m) => ({ role: m.role, content: m.content })),
    stream: request.stream,
  };
}

function anthropicUsage(value: unknown, previous?: Usage): Usage | undefined {
  if (!isObject(value)) return previous;
  // input_tokens excludes cached prompt tokens; OpenAI's prompt_tokens includes them, so they are added back.
  const input = num(value.input_tokens);
  const cached = (num(value.cache_creation_input_tokens) ?? 0) + (num(value.cache_read_input_tokens) ?? 0);
  const prompt = input !== undefined ? input + cached : previous?.promptTokens;
  return makeUsage(prompt, num(value.output_tokens) ?? previous?.completionTokens);
}

function errorReason(value: unknown): string {
  if (isObject(value) && isObject(value.error)) {
    return str(value.error.message) ?? str(value.error.type) ?? 'error';
  }
  return 'error';
}

function parseAnthropic(json: unknown): ParseOutcome {
  if (!isObject(json)) return { ok: false, reason: 'the body is not a JSON object' };
  if (json.type === 'error') return { ok: false, reason: `the body carries an error: ${errorReason(json)}` };
  if (!Array.isArray(json.content)) return { ok: false, reason: 'the body has no content array' };
  const content = json.content
    .map((block: unknown) => (isObject(block) && block.type === 'text' ? (str(block.text) ?? '') : ''))
    .join('');
  return {
    ok: true,
    reply: { content, finishReason: str(json.stop_reason), usage: anthropicUsage(json.usage), servedModel: str(json.model) },
  };
}

function anthropicStreamReader(): StreamReader {
  const reply: DialectReply = { content: '' };
  let done = false;
  return {
    event(message): StreamStep {
      if (done) return { done: true };
      const parsed = parseJson(message.data);
      if (!parsed.ok || !isObject(parsed.value)) return { error: 'a stream event is not a JSON object' };
      const data = parsed.value;
      switch (str(data.type) ?? message.event) {
        case 'message_start': {
          const start = isObject(data.message) ? data.message : {};
          reply.servedModel = str(start.model);
          reply.usage = anthropicUsage(start.usage);
          return {};
        }
        case 'content_block_delta': {
          const delta = isObject(data.delta) && data.delta.type === 'text_delta' ? (str(data.delta.text) ?? '') : '';
          reply.content += delta;
          return { delta };
        }
        case 'message_delta': {
          if (isObject(data.delta)) reply.finishReason = str(data.delta.stop_reason) ?? reply.finishReason;
          // message_delta's usage is cumulative: it replaces what message_start said.
          reply.usage = anthropicUsage(data.usage, reply.usage);
          return {};
        }
        case 'message_stop':
          done = true;
          return { done: true };
        case 'error':
          return { error: `the stream carried an error: ${errorReason(data)}` };
        default:
          // ping, content_block_start/stop and event types added later are harmless.
          return {};
      }
    },
    finish(): ParseOutcome {
      if (!done) return { ok: false, reason: 'the stream ended without message_stop' };
      return { ok: true, reply };
    },
  };
}

export const anthropicDialect: Dialect = {
  api: 'anthropic',
  chatPath: '/messages',
  // The models endpoint pages 20 at a time by default; 1000 is its maximum.
  modelsQuery: '?limit=1000',
  headers: (apiKey) => ({
    'anthropic-version': ANTHROPIC_VERSION,
    ...(apiKey === undefined ? {} : { 'x-api-key': apiKey }),
  }),
  body: anthropicBody,
  parse: parseAnthropic,
  streamReader: anthropicStreamReader,
};
