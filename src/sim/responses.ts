// OpenAI's Responses API wire format (POST /v1/responses): request parsing, response objects and the typed stream
// events (`event: response.output_text.delta` ...). Errors are OpenAI's; faults are the profile's, as for chat.
import type { Completion, Dialect, ParsedRequest, StreamScript } from './dialect.js';
import { isErrorReply, sseEvent, type ErrorReply } from './dialect.js';
import { isObject } from '../core/json.js';
import type { BadVariant } from './outcome.js';
import { openaiDialect } from './openai.js';
import { contentText, estimatePromptTokens } from './text.js';

const error: Dialect['error'] = (kind, message, param) => openaiDialect.error(kind, message, param);

function parseRequest(body: unknown): ParsedRequest | ReturnType<typeof error> {
  if (!isObject(body)) return error('invalid_request', 'The request body must be a JSON object.');
  const { model, input, instructions } = body;
  if (typeof model !== 'string' || model === '') return error('invalid_request', 'You must provide a model parameter.', 'model');
  // A continuation may send no new input (previous_response_id, conversation); anything else must.
  const continues = typeof body.previous_response_id === 'string' || body.conversation !== undefined;
  if (input === undefined && !continues) return error('invalid_request', "Missing required parameter: 'input'.", 'input');
  if (input !== undefined && typeof input !== 'string' && !Array.isArray(input)) {
    return error('invalid_request', "Invalid type for 'input': expected a string or an array of input items.", 'input');
  }
  const items: unknown[] = typeof input === 'string' ? [input] : Array.isArray(input) ? input : [];
  const texts = items.map((item) => (typeof item === 'string' ? item : isObject(item) ? contentText(item.content) || contentText(item.output) : ''));
  if (typeof instructions === 'string') texts.push(instructions);
  const limit = body.max_output_tokens;
  return {
    model,
    stream: body.stream === true,
    includeUsage: true,
    maxTokens: typeof limit === 'number' ? Math.floor(limit) : undefined,
    promptTokens: estimatePromptTokens(texts, Math.max(1, items.length)),
  };
}

const messageId = (completion: Completion) => `msg_${completion.id.slice(5)}`;

function outputMessage(completion: Completion, text: string, status: string) {
  return { id: messageId(completion), type: 'message', status, role: 'assistant', content: [{ type: 'output_text', text, annotations: [], logprobs: [] }] };
}

/** The response object; `output` and `status` as far as it has come. */
function response(completion: Completion, status: string, output: unknown[], withUsage: boolean) {
  const outputTokens = completion.tokens.length;
  return {
    id: completion.id,
    object: 'response',
    created_at: completion.created,
    status,
    error: null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    model: completion.model,
    output,
    parallel_tool_calls: true,
    store: true,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    usage: withUsage
      ? {
          input_tokens: completion.promptTokens,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: outputTokens,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: completion.promptTokens + outputTokens,
        }
      : null,
  };
}

const finalStatus = (completion: Completion) => (completion.truncated ? 'incomplete' : 'completed');

/** The finished response: what a non-streamed request is answered, and what GET /responses/{id} reads back. */
export function finishedResponse(completion: Completion): Record<string, unknown> {
  return response(completion, finalStatus(completion), [outputMessage(completion, completion.tokens.join(''), 'completed')], true);
}

function body(completion: Completion, variant?: BadVariant): string {
  // `no_choices`: a finished response with nothing in its output.
  const finished = finishedResponse(completion);
  const text = JSON.stringify(variant === 'no_choices' ? { ...finished, output: [] } : finished);
  return variant === 'invalid_json' ? text.slice(0, Math.floor(text.length / 2)) : text;
}

function stream(completion: Completion): StreamScript {
  // Every event carries its sequence number, as OpenAI's do.
  let sequence = 0;
  const event = (type: string, data: Record<string, unknown>) => sseEvent(type, { type, sequence_number: sequence++, ...data });
  const item = { item_id: messageId(completion), output_index: 0, content_index: 0 };
  const text = completion.tokens.join('');
  const status = finalStatus(completion);
  const opening =
    event('response.created', { response: response(completion, 'in_progress', [], false) }) +
    event('response.in_progress', { response: response(completion, 'in_progress', [], false) }) +
    event('response.output_item.added', { output_index: 0, item: { ...outputMessage(completion, '', 'in_progress'), content: [] } }) +
    event('response.content_part.added', { ...item, part: { type: 'output_text', text: '', annotations: [] } });
  const done = outputMessage(completion, text, status === 'completed' ? 'completed' : 'incomplete');
  return {
    opening,
    delta: (chunk) => event('response.output_text.delta', { ...item, delta: chunk, logprobs: [] }),
    // Built when the stream ends, after the deltas took their sequence numbers.
    get closing() {
      return (
        event('response.output_text.done', { ...item, text, logprobs: [] }) +
        event('response.content_part.done', { ...item, part: done.content[0] }) +
        event('response.output_item.done', { output_index: 0, item: done }) +
        event(`response.${status}`, { response: response(completion, status, [done], true) })
      );
    },
  };
}

/** POST /responses/input_tokens: the request's input counted as its answer would count it. */
export function countInputTokens(body: unknown): ErrorReply {
  const parsed = parseRequest(body);
  if (isErrorReply(parsed)) return parsed;
  return { status: 200, body: { object: 'response.input_tokens', input_tokens: parsed.promptTokens } };
}

/** OpenAI's errors, headers and request ids; the Responses API's requests and answers. */
export const responsesDialect: Dialect = { ...openaiDialect, idPrefix: 'resp_', parseRequest, body, stream };
