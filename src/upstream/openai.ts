// OpenAI chat completions: POST {base}/chat/completions, Bearer auth, SSE chunks ending with `data: [DONE]`.
import type { Dialect, DialectReply, ParseOutcome, StreamReader, StreamStep } from './dialect.js';
import { isObject, makeUsage, num, parseJson, str, textOf, type JsonObject } from './shape.js';
import type { ChatRequest, Usage } from './types.js';

// Fields the client owns; a sampled request's copies would conflict with them (max_completion_tokens with
// max_tokens is a 400, stream_options without stream is a 400).
const OWNED_PARAMS = new Set(['model', 'messages', 'stream', 'stream_options', 'max_tokens', 'max_completion_tokens']);

function openAiBody(model: string, request: ChatRequest): Record<string, unknown> {
  const params = Object.fromEntries(Object.entries(request.params).filter(([key]) => !OWNED_PARAMS.has(key)));
  return {
    ...params,
    model,
    messages: request.messages,
    max_tokens: request.maxTokens,
    stream: request.stream,
    ...(request.stream ? { stream_options: { include_usage: true } } : {}),
  };
}

function openAiUsage(value: unknown): Usage | undefined {
  if (!isObject(value)) return undefined;
  return makeUsage(num(value.prompt_tokens), num(value.completion_tokens), num(value.total_tokens));
}

/** The upstream's own error message, for relays that answer 200 with an error body or event. */
function errorReason(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '' || value === false) return undefined;
  if (isObject(value)) return str(value.message) ?? str(value.type) ?? str(value.code) ?? 'error object';
  return typeof value === 'string' ? value : 'error object';
}

function parseOpenAi(json: unknown): ParseOutcome {
  if (!isObject(json)) return { ok: false, reason: 'the body is not a JSON object' };
  const error = errorReason(json.error);
  if (error !== undefined) return { ok: false, reason: `the body carries an error: ${error}` };
  const choices = json.choices;
  if (!Array.isArray(choices) || choices.length === 0) return { ok: false, reason: 'the body has no choices' };
  const first: unknown = choices[0];
  if (!isObject(first) || !isObject(first.message)) return { ok: false, reason: 'choices[0] has no message' };
  // content is null for refusals and tool calls: an empty answer, judged later by the quality checks.
  return {
    ok: true,
    reply: {
      content: textOf(first.message.content),
      finishReason: str(first.finish_reason),
      usage: openAiUsage(json.usage),
      servedModel: str(json.model),
    },
  };
}

function openAiStreamReader(): StreamReader {
  const reply: DialectReply = { content: '' };
  let chunks = 0;
  let done = false;
  return {
    event(message): StreamStep {
      if (done) return { done: true };
      if (message.data.trim() === '[DONE]') {
        done = true;
        return { done: true };
      }
      const parsed = parseJson(message.data);
      if (!parsed.ok || !isObject(parsed.value)) return { error: 'a stream chunk is not a JSON object' };
      const chunk: JsonObject = parsed.value;
      const error = errorReason(chunk.error);
      if (error !== undefined) return { error: `the stream carried an error: ${error}` };
      chunks += 1;
      reply.servedModel = str(chunk.model) ?? reply.servedModel;
      reply.usage = openAiUsage(chunk.usage) ?? reply.usage;
      const choice: unknown = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
      if (!isObject(choice)) return {};
      reply.finishReason = str(choice.finish_reason) ?? reply.finishReason;
      const delta = isObject(choice.delta) ? textOf(choice.delta.content) : '';
      reply.content += delta;
      return { delta };
    },
    finish(): ParseOutcome {
      if (!done) return { ok: false, reason: 'the stream ended without data: [DONE]' };
      if (chunks === 0) return { ok: false, reason: 'the stream carried no chunks before [DONE]' };
      return { ok: true, reply };
    },
  };
}

export const openAiDialect: Dialect = {
  api: 'openai',
  chatPath: '/chat/completions',
  modelsQuery: '',
  headers: (apiKey): Record<string, string> => (apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` }),
  body: openAiBody,
  parse: parseOpenAi,
  streamReader: openAiStreamReader,
};
