// Anthropic Messages API: POST {base}/messages, x-api-key, events message_start … message_stop.
import { toAnthropic } from '../traffic/to-anthropic.js';
import { applyDropAndSet, type RequestAdaptation } from './adapt.js';
import type { Dialect, DialectReply, ParseOutcome, StreamReader, StreamStep } from './dialect.js';
import { handTemplate, readWithTemplate, type ContentTemplate, type StreamStart } from './openai-delta.js';
import { isObject, makeUsage, num, parseJson, str } from './shape.js';
import type { ChatRequest, Usage } from './types.js';

export const ANTHROPIC_VERSION = '2023-06-01';

/**
 * The Messages API body. Requests arrive in OpenAI's shape (synthetic prompts, sampled traffic): system
 * messages, images, tools and parameters are converted; what has no Anthropic counterpart is left out,
 * since the Messages API answers 400 to fields it does not know.
 */
function anthropicBody(model: string, request: ChatRequest, adaptation: RequestAdaptation): Record<string, unknown> {
  const converted = toAnthropic(request.messages, request.params);
  return applyDropAndSet(
    {
      ...converted.params,
      model,
      max_tokens: request.maxTokens,
      ...(converted.system !== undefined ? { system: converted.system } : {}),
      messages: converted.messages,
      stream: request.stream,
    },
    adaptation,
  );
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
  const reply: DialectReply = { content: '', finishReason: str(json.stop_reason), usage: anthropicUsage(json.usage), servedModel: str(json.model) };
  for (const block of json.content) {
    if (!isObject(block)) continue;
    if (block.type === 'text') reply.content += str(block.text) ?? '';
    else if (block.type === 'thinking' || block.type === 'redacted_thinking') {
      reply.reasoningChars = (reply.reasoningChars ?? 0) + (str(block.thinking) ?? str(block.data) ?? '').length;
    } else if (block.type === 'tool_use') {
      reply.toolCalls = (reply.toolCalls ?? 0) + 1;
      reply.toolChars = (reply.toolChars ?? 0) + JSON.stringify(block.input ?? {}).length;
    }
  }
  if (reply.finishReason === 'refusal') reply.refusal = true;
  return { ok: true, reply };
}

/**
 * A text delta as Anthropic spells it, `{"type":"content_block_delta","index":N,"delta":{"type":"text_delta",
 * "text":"..."}}`, as a template of src/upstream/openai-delta.ts: an event spelled exactly so, with a JSON number
 * and string in the holes, parses to a text delta of that text whatever the number (the index is not read), so
 * its text is taken without JSON.parse. Any other spelling is parsed in full. One per upstream: the template
 * remembers the last event's start, and each stream its own (StreamStart).
 */
function textDeltaTemplate(): ContentTemplate {
  return handTemplate(['{"type":"content_block_delta","index":', ',"delta":{"type":"text_delta","text":', '}}'], [true, false], 1);
}

/** `template`: the text delta template shared by one upstream's streams (a new one when not given). */
function anthropicStreamReader(template = textDeltaTemplate()): StreamReader {
  const reply: DialectReply = { content: '' };
  let done = false;
  const start: StreamStart = {};
  return {
    event(message): StreamStep {
      if (done) return { done: true };
      // Most events of a stream are text deltas spelled alike: read without parsing.
      const quick = readWithTemplate(template, message.data, start);
      if (quick !== undefined) {
        reply.content += quick;
        return { delta: quick };
      }
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
        case 'content_block_start': {
          const block = isObject(data.content_block) ? data.content_block : {};
          if (block.type !== 'tool_use') return {};
          reply.toolCalls = (reply.toolCalls ?? 0) + 1;
          return { output: true };
        }
        case 'content_block_delta': {
          const delta = isObject(data.delta) ? data.delta : {};
          if (delta.type === 'thinking_delta') {
            reply.reasoningChars = (reply.reasoningChars ?? 0) + (str(delta.thinking) ?? '').length;
            return { output: true };
          }
          if (delta.type === 'input_json_delta') {
            reply.toolChars = (reply.toolChars ?? 0) + (str(delta.partial_json) ?? '').length;
            return { output: true };
          }
          const text = delta.type === 'text_delta' ? (str(delta.text) ?? '') : '';
          reply.content += text;
          return { delta: text };
        }
        case 'message_delta': {
          if (isObject(data.delta)) reply.finishReason = str(data.delta.stop_reason) ?? reply.finishReason;
          if (reply.finishReason === 'refusal') reply.refusal = true;
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
          // ping, content_block_stop, signature deltas and event types added later are harmless.
          return {};
      }
    },
    finish(): ParseOutcome {
      if (!done) return { ok: false, reason: 'the stream ended without message_stop' };
      return { ok: true, reply };
    },
  };
}

/**
 * Stream events before any text: a stream's start is held past them while blue can still answer (the proxy). An
 * Anthropic stream's failure comes after message_start (its own docs' example: message_start, then an `error`
 * event, `overloaded_error`), and a block's start and pings carry no text either.
 */
export const ANTHROPIC_LEADING_EVENTS: ReadonlySet<string> = new Set(['message_start', 'content_block_start', 'ping']);

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
  streamReader: () => anthropicStreamReader(),
  sharedStreamReaders: () => {
    const template = textDeltaTemplate();
    return () => anthropicStreamReader(template);
  },
};
