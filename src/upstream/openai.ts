// OpenAI chat completions: POST {base}/chat/completions, Bearer auth, SSE chunks ending with `data: [DONE]`.
import { adaptOpenAiBody, type RequestAdaptation } from './adapt.js';
import { AnswerTemplates } from './openai-answer.js';
import { learnTemplate, learnWholeTemplate, TemplateMemory, type StreamStart } from './openai-delta.js';
import type { Dialect, DialectReply, ParseOutcome, StreamReader, StreamStep } from './dialect.js';
import { isObject, makeUsage, num, parseJson, str, textOf, type JsonObject } from './shape.js';
import type { ChatRequest, Usage } from './types.js';

// Fields the client owns; a sampled request's copies would conflict with them (max_completion_tokens with
// max_tokens is a 400, stream_options without stream is a 400).
const OWNED_PARAMS = new Set(['model', 'messages', 'stream', 'stream_options', 'max_tokens', 'max_completion_tokens']);

function openAiBody(model: string, request: ChatRequest, adaptation: RequestAdaptation): Record<string, unknown> {
  const params = Object.fromEntries(Object.entries(request.params).filter(([key]) => !OWNED_PARAMS.has(key)));
  return adaptOpenAiBody(
    {
      ...params,
      model,
      messages: request.messages,
      max_tokens: request.maxTokens,
      stream: request.stream,
      ...(request.stream ? { stream_options: { include_usage: true } } : {}),
    },
    adaptation,
  );
}

/** Reasoning text: reasoning_content (DeepSeek, vLLM, Qwen), reasoning (OpenRouter, newer vLLM). */
function reasoningText(message: JsonObject): string {
  return (str(message.reasoning_content) ?? '') + (str(message.reasoning) ?? '');
}

/** What toolCallsOf finds in a message or delta without tool calls (most stream chunks): one shared answer, never changed. */
const NO_TOOL_CALLS: { readonly indexes: readonly number[]; readonly chars: number } = Object.freeze({ indexes: Object.freeze([]), chars: 0 });

/** Tool calls in a message or delta, with the length of their arguments. */
function toolCallsOf(message: JsonObject): { readonly indexes: readonly number[]; readonly chars: number } {
  if (message.tool_calls === undefined && message.function_call === undefined) return NO_TOOL_CALLS;
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  const indexes: number[] = [];
  let chars = 0;
  calls.forEach((call: unknown, position) => {
    if (!isObject(call)) return;
    indexes.push(num(call.index) ?? position);
    const fn = isObject(call.function) ? call.function : {};
    chars += (str(fn.name) ?? '').length + (str(fn.arguments) ?? '').length;
  });
  // The legacy single function_call counts as one call.
  if (isObject(message.function_call)) {
    indexes.push(0);
    chars += (str(message.function_call.arguments) ?? '').length;
  }
  return { indexes, chars };
}

/** A delta holding a text and nothing else. */
function isOnlyContent(delta: JsonObject): boolean {
  if (typeof delta.content !== 'string') return false;
  for (const key in delta) if (key !== 'content') return false;
  return true;
}

/** A delta with no text of any kind: a stream's role chunk, its finish chunk. */
function carriesNoText(delta: JsonObject): boolean {
  for (const key in delta) {
    if (key === 'role' || (key === 'content' && (delta.content === '' || delta.content === null))) continue;
    return false;
  }
  return true;
}

function isRefusal(message: JsonObject): boolean {
  return typeof message.refusal === 'string' && message.refusal !== '';
}

function openAiUsage(value: unknown): Usage | undefined {
  if (!isObject(value)) return undefined;
  const prompt = num(value.prompt_tokens);
  const completion = num(value.completion_tokens);
  const total = num(value.total_tokens);
  // Gemini's compatible endpoint leaves thinking tokens out of completion_tokens but counts them in
  // total_tokens; they are billed as output, so the output is what the total leaves after the prompt.
  const output = prompt !== undefined && completion !== undefined && total !== undefined ? Math.max(completion, total - prompt) : completion;
  return makeUsage(prompt, output, total);
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
  // content is null for refusals and tool calls: those are read from their own fields.
  const message = first.message;
  const reply: DialectReply = {
    content: textOf(message.content),
    finishReason: str(first.finish_reason),
    usage: openAiUsage(json.usage),
    servedModel: str(json.model),
  };
  const reasoning = reasoningText(message).length;
  if (reasoning > 0) reply.reasoningChars = reasoning;
  const tools = toolCallsOf(message);
  if (tools.indexes.length > 0) {
    reply.toolCalls = tools.indexes.length;
    reply.toolChars = tools.chars;
  }
  if (isRefusal(message)) reply.refusal = true;
  return { ok: true, reply };
}

/** Templates learnt per stream at most: a provider whose chunks never repeat their spelling stops paying for it. */
const MAX_TEMPLATES = 4;

/**
 * The stream reader; `fastPath: false` parses every chunk in full (the reference the fast path is tested
 * against). `templates`: the spellings learnt from the same upstream's earlier streams (shared), else this
 * stream's own.
 */
export function openAiStreamReader(options: { fastPath?: boolean; templates?: TemplateMemory } = {}): StreamReader {
  const reply: DialectReply = { content: '' };
  // Made at the first tool call: most streams carry none.
  let toolIndexes: Set<number> | undefined;
  let chunks = 0;
  let done = false;
  // Spellings of plain text chunks (src/upstream/openai-delta.ts), and how many this stream learnt.
  const templates = options.templates ?? new TemplateMemory();
  const fast = options.fastPath !== false;
  let learnt = fast ? 0 : MAX_TEMPLATES;
  const start: StreamStart = {};
  return {
    event(message): StreamStep {
      if (done) return { done: true };
      if (message.data.trim() === '[DONE]') {
        done = true;
        return { done: true };
      }
      // Most chunks carry only text, spelled like an earlier one: read without parsing the chunk.
      if (fast) {
        const quick = templates.read(message.data, reply.servedModel, start);
        if (quick !== undefined) {
          chunks += 1;
          reply.content += quick;
          return { delta: quick, output: quick !== '' };
        }
      }
      // A chunk spelled like an earlier role or finish chunk is that chunk (but for values nothing reads).
      const known = fast ? templates.readWhole(message.data) : undefined;
      let chunk: JsonObject;
      if (known) chunk = known;
      else {
        const parsed = parseJson(message.data);
        if (!parsed.ok || !isObject(parsed.value)) return { error: 'a stream chunk is not a JSON object' };
        chunk = parsed.value;
      }
      const error = errorReason(chunk.error);
      if (error !== undefined) return { error: `the stream carried an error: ${error}` };
      chunks += 1;
      reply.servedModel = str(chunk.model) ?? reply.servedModel;
      reply.usage = openAiUsage(chunk.usage) ?? reply.usage;
      const choice: unknown = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
      if (!isObject(choice)) return {};
      // A request with `n` above 1 streams each choice in chunks of its own (its index): the first alone is read, as
      // a whole answer's choices[0] is; the others' text woven into it would be judged as one answer. Never learnt
      // as a template either (a template keeps its index literally, so theirs never match the first's).
      if (typeof choice.index === 'number' && choice.index !== 0) return {};
      reply.finishReason = str(choice.finish_reason) ?? reply.finishReason;
      if (!isObject(choice.delta)) return {};
      const delta = textOf(choice.delta.content);
      reply.content += delta;
      const reasoning = reasoningText(choice.delta).length;
      if (reasoning > 0) reply.reasoningChars = (reply.reasoningChars ?? 0) + reasoning;
      const tools = toolCallsOf(choice.delta);
      if (tools.indexes.length > 0) {
        toolIndexes ??= new Set<number>();
        for (const index of tools.indexes) toolIndexes.add(index);
        reply.toolCalls = toolIndexes.size;
        reply.toolChars = (reply.toolChars ?? 0) + tools.chars;
      }
      const refused = isRefusal(choice.delta);
      if (refused) reply.refusal = true;
      // A chunk the reader took only text from (no error, usage or finish reason: checked above) may be the
      // spelling of the next ones.
      if (learnt < MAX_TEMPLATES && openAiUsage(chunk.usage) === undefined && str(choice.finish_reason) === undefined && isOnlyContent(choice.delta)) {
        learnt++;
        const template = learnTemplate(message.data, chunk);
        if (template) templates.learn(template);
      } else if (learnt < MAX_TEMPLATES && known === undefined && openAiUsage(chunk.usage) === undefined && carriesNoText(choice.delta)) {
        // Usage differs from stream to stream, and text from chunk to chunk: only chunks with neither recur whole.
        learnt++;
        const whole = learnWholeTemplate(message.data, chunk);
        if (whole) templates.learnWhole(whole);
      }
      // A refusal is what the user reads (as the Responses and Anthropic readers count theirs), audio what they hear:
      // output, the first token.
      return { delta, output: delta !== '' || reasoning > 0 || tools.indexes.length > 0 || refused || isObject(choice.delta.audio) };
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
  streamReader: () => openAiStreamReader(),
  sharedStreamReaders: () => {
    const templates = new TemplateMemory();
    return () => openAiStreamReader({ templates });
  },
  sharedAnswerReader: () => new AnswerTemplates(openAiUsage),
};
