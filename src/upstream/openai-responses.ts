// OpenAI's Responses API answers (POST {base}/responses), read into the same reply as a chat completion: text,
// finish, usage, tool calls, and the response's id (what a continuation's previous_response_id names). Only the
// proxy sends this format (generated traffic stays on chat completions), so there is no request builder here.
import type { DialectReply, ParseOutcome, StreamReader, StreamStep } from './dialect.js';
import { isObject, makeUsage, num, parseJson, str, type JsonObject } from './shape.js';
import type { Usage } from './types.js';

/**
 * Output items the application must act on: counted as tool calls (built-in tools that run upstream are not).
 * Computer use, local shell, shell, apply_patch and MCP approval requests are actions too: an answer of one of them
 * has no text by design, and read as text it failed min_content_length (review11).
 */
const TOOL_CALL_ITEMS = new Set([
  'function_call',
  'custom_tool_call',
  'computer_call',
  'local_shell_call',
  'shell_call',
  'apply_patch_call',
  'mcp_approval_request',
]);

/** Stream events before any output: a stream's start is held past them while blue can still answer. */
export const RESPONSES_LEADING_EVENTS: ReadonlySet<string> = new Set(['response.created', 'response.in_progress', 'response.queued']);

function responsesUsage(value: unknown): Usage | undefined {
  if (!isObject(value)) return undefined;
  // input_tokens includes cached tokens (input_tokens_details.cached_tokens is a part of it), as prompt_tokens does.
  return makeUsage(num(value.input_tokens), num(value.output_tokens), num(value.total_tokens));
}

/** The upstream's message for a failed response or an error event. */
function errorText(value: unknown): string {
  if (isObject(value)) return str(value.message) ?? str(value.code) ?? str(value.type) ?? 'error object';
  return typeof value === 'string' && value !== '' ? value : 'no message';
}

/** Counts one output item into the reply: message text and refusals, reasoning summaries, tool calls. */
function readItem(item: unknown, reply: DialectReply): void {
  if (!isObject(item)) return;
  const type = str(item.type) ?? '';
  if (type === 'message' && Array.isArray(item.content)) {
    for (const part of item.content) {
      if (!isObject(part)) continue;
      if (part.type === 'output_text') reply.content += str(part.text) ?? '';
      else if (part.type === 'refusal') reply.refusal = true;
    }
  } else if (type === 'reasoning') {
    let chars = 0;
    for (const list of [item.summary, item.content]) {
      if (Array.isArray(list)) for (const part of list) if (isObject(part)) chars += (str(part.text) ?? '').length;
    }
    if (chars > 0) reply.reasoningChars = (reply.reasoningChars ?? 0) + chars;
  } else if (TOOL_CALL_ITEMS.has(type)) {
    reply.toolCalls = (reply.toolCalls ?? 0) + 1;
    reply.toolChars = (reply.toolChars ?? 0) + (str(item.name) ?? '').length + (str(item.arguments) ?? str(item.input) ?? '').length;
  }
}

/**
 * A finished response object (a whole answer, or the one response.completed / response.incomplete carries):
 * `completed` and `incomplete` are answers (incomplete for max_output_tokens finishes as `length`); `failed`,
 * `cancelled` and an unfinished (background) response are not.
 */
function readResponse(response: JsonObject): ParseOutcome {
  const status = str(response.status);
  if (status === 'failed') return { ok: false, reason: `the response failed: ${errorText(response.error)}` };
  if (isObject(response.error)) return { ok: false, reason: `the body carries an error: ${errorText(response.error)}` };
  if (status !== 'completed' && status !== 'incomplete') {
    return { ok: false, reason: `the response is not finished (status ${status ?? 'missing'}; background responses are not served)` };
  }
  if (!Array.isArray(response.output)) return { ok: false, reason: 'the response has no output list' };
  const reply: DialectReply = { content: '', usage: responsesUsage(response.usage), servedModel: str(response.model), responseId: str(response.id) };
  for (const item of response.output) {
    readItem(item, reply);
    const id = isObject(item) ? str(item.id) : undefined;
    if (id !== undefined) (reply.itemIds ??= []).push(id);
  }
  if (status === 'incomplete') {
    const reason = isObject(response.incomplete_details) ? str(response.incomplete_details.reason) : undefined;
    reply.finishReason = reason === 'max_output_tokens' ? 'length' : (reason ?? 'incomplete');
  } else {
    if (response.output.length === 0) return { ok: false, reason: 'the response has no output' };
    reply.finishReason = reply.toolCalls ? 'tool_calls' : 'stop';
  }
  return { ok: true, reply };
}

/** A whole Responses API answer (a non-streamed 200). */
export function parseResponses(json: unknown): ParseOutcome {
  if (!isObject(json)) return { ok: false, reason: 'the body is not a JSON object' };
  return readResponse(json);
}

/**
 * A streamed answer: `event: <type>` lines with JSON data carrying the same `type`. Text comes in
 * response.output_text.delta; the end is response.completed or response.incomplete, whose response object gives
 * usage and the finish; response.failed and `error` events are failures.
 */
export function responsesStreamReader(): StreamReader {
  let reply: DialectReply = { content: '' };
  let streamedTools = 0;
  let done = false;
  return {
    event(message): StreamStep {
      if (done) return { done: true };
      const parsed = parseJson(message.data);
      if (!parsed.ok || !isObject(parsed.value)) return { error: 'a stream event is not a JSON object' };
      const data = parsed.value;
      switch (str(data.type) ?? message.event) {
        case 'response.output_text.delta': {
          const delta = str(data.delta) ?? '';
          reply.content += delta;
          return { delta, output: delta !== '' };
        }
        case 'response.refusal.delta':
          reply.refusal = true;
          return { output: true };
        case 'response.reasoning_summary_text.delta':
        case 'response.reasoning_text.delta': {
          const chars = (str(data.delta) ?? '').length;
          if (chars > 0) reply.reasoningChars = (reply.reasoningChars ?? 0) + chars;
          return { output: chars > 0 };
        }
        case 'response.output_item.added': {
          const item = isObject(data.item) ? data.item : {};
          const type = str(item.type) ?? '';
          // A message's text and a reasoning's summary come in their deltas; a built-in tool's work (a web search, a
          // generated image's partials, code run) is what the answer streams first: output, not a tool call.
          if (!TOOL_CALL_ITEMS.has(type)) return type === 'message' || type === 'reasoning' || type === '' ? {} : { output: true };
          streamedTools++;
          return { output: true };
        }
        case 'response.created':
        case 'response.in_progress':
        case 'response.queued': {
          const response = isObject(data.response) ? data.response : {};
          reply.responseId = str(response.id) ?? reply.responseId;
          reply.servedModel = str(response.model) ?? reply.servedModel;
          return reply.responseId === undefined ? {} : { responseId: reply.responseId };
        }
        case 'response.completed':
        case 'response.incomplete': {
          done = true;
          const final = readResponse(isObject(data.response) ? data.response : {});
          if (!final.ok) return { error: `the stream's final response is not an answer: ${final.reason}`, done: true };
          // The text the client read is the deltas'; the final object is the word on the rest.
          const streamed = reply.content;
          reply = { ...final.reply, responseId: final.reply.responseId ?? reply.responseId };
          if (streamed !== '') reply.content = streamed;
          if (streamedTools > (reply.toolCalls ?? 0)) reply.toolCalls = streamedTools;
          return { done: true };
        }
        case 'response.failed': {
          const response = isObject(data.response) ? data.response : {};
          return { error: `the stream carried a failed response: ${errorText(response.error)}` };
        }
        case 'error':
          return { error: `the stream carried an error: ${errorText(isObject(data.error) ? data.error : data)}` };
        default:
          // Item and part boundaries, argument deltas, annotations, built-in tool progress: nothing to count.
          if (data.type === 'response.function_call_arguments.delta') reply.toolChars = (reply.toolChars ?? 0) + (str(data.delta) ?? '').length;
          return {};
      }
    },
    finish(): ParseOutcome {
      if (!done) return { ok: false, reason: 'the stream ended without response.completed' };
      return { ok: true, reply };
    },
  };
}
