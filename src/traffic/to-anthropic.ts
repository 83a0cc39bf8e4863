// Converts a request recorded in OpenAI's chat shape into Anthropic Messages API fields, so sampled traffic
// (and, later, proxied traffic) can be replayed on an Anthropic arm. Pure; what cannot be converted is
// reported, never silently sent.
import type { ChatMessage } from '../upstream/types.js';
import { isObject } from '../core/json.js';

type Json = Record<string, unknown>;
type Block = Json;

export interface AnthropicConversion {
  system?: string;
  messages: { role: 'user' | 'assistant'; content: string | Block[] }[];
  /** Anthropic request fields converted from the OpenAI parameters (temperature, stop_sequences, tools...). */
  params: Json;
  /** OpenAI parameters with no Anthropic counterpart, left out (response_format, n, seed...). */
  dropped: string[];
  /** Parts that could not be converted (audio, files, unreadable tool arguments): the request is not faithful. */
  problems: string[];
}

// Sent as they are: the two APIs agree on name and meaning.
const SAME = new Set(['top_p', 'top_k', 'thinking', 'metadata']);
// Consumed by the conversion itself.
const HANDLED = new Set(['temperature', 'stop', 'stop_sequences', 'tools', 'tool_choice', 'parallel_tool_calls']);

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) return '';
  return value.map((part) => (isObject(part) && typeof part.text === 'string' ? part.text : '')).join('');
}

const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

function imageBlock(part: Json, problems: string[]): Block | undefined {
  const image = isObject(part.image_url) ? part.image_url : {};
  const url = typeof part.image_url === 'string' ? part.image_url : typeof image.url === 'string' ? image.url : '';
  const data = DATA_URL.exec(url);
  if (data) return { type: 'image', source: { type: 'base64', media_type: data[1], data: data[2] } };
  if (/^https?:\/\//.test(url)) return { type: 'image', source: { type: 'url', url } };
  problems.push('an image that is neither a data: nor an http(s) URL');
  return undefined;
}

function contentBlocks(content: unknown, problems: string[]): Block[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  if (!Array.isArray(content)) return [];
  const blocks: Block[] = [];
  for (const part of content) {
    if (!isObject(part)) continue;
    if (part.type === 'text' && typeof part.text === 'string') blocks.push({ type: 'text', text: part.text });
    else if (part.type === 'image_url') {
      const block = imageBlock(part, problems);
      if (block) blocks.push(block);
    } else problems.push(`a ${String(part.type)} content part (Anthropic takes text and images)`);
  }
  return blocks;
}

function toolUseBlocks(message: ChatMessage, problems: string[]): Block[] {
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  return calls.flatMap((call: unknown) => {
    if (!isObject(call) || !isObject(call.function)) return [];
    const args = typeof call.function.arguments === 'string' ? call.function.arguments : '{}';
    let input: unknown;
    try {
      input = JSON.parse(args === '' ? '{}' : args);
    } catch {
      problems.push('tool call arguments that are not JSON');
      return [];
    }
    return [{ type: 'tool_use', id: call.id, name: call.function.name, input }];
  });
}

function blocksOf(message: ChatMessage, problems: string[]): { role: 'user' | 'assistant'; blocks: Block[] } | undefined {
  switch (message.role) {
    case 'user':
      return { role: 'user', blocks: contentBlocks(message.content, problems) };
    case 'assistant':
      return { role: 'assistant', blocks: [...contentBlocks(message.content, problems), ...toolUseBlocks(message, problems)] };
    case 'tool':
      // A tool's answer is a tool_result block in the next user turn.
      return { role: 'user', blocks: [{ type: 'tool_result', tool_use_id: message.tool_call_id, content: text(message.content) }] };
    default:
      problems.push(`a message with role "${message.role}"`);
      return undefined;
  }
}

function convertTools(tools: unknown, dropped: string[]): Json[] | undefined {
  if (!Array.isArray(tools)) return undefined;
  const out: Json[] = [];
  for (const tool of tools) {
    if (isObject(tool) && tool.type === 'function' && isObject(tool.function) && typeof tool.function.name === 'string') {
      const fn = tool.function;
      out.push({
        name: fn.name,
        ...(typeof fn.description === 'string' ? { description: fn.description } : {}),
        input_schema: isObject(fn.parameters) ? fn.parameters : { type: 'object', properties: {} },
      });
    } else dropped.push('tools (not a function)');
  }
  return out.length > 0 ? out : undefined;
}

function convertToolChoice(choice: unknown, parallel: unknown): Json | undefined {
  let out: Json | undefined;
  if (choice === 'auto') out = { type: 'auto' };
  else if (choice === 'required') out = { type: 'any' };
  else if (choice === 'none') out = { type: 'none' };
  else if (isObject(choice) && isObject(choice.function) && typeof choice.function.name === 'string') {
    out = { type: 'tool', name: choice.function.name };
  }
  if (parallel === false) out = { ...(out ?? { type: 'auto' }), disable_parallel_tool_use: true };
  return out;
}

function convertParams(params: Json, dropped: string[]): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(params)) {
    if (SAME.has(key)) out[key] = value;
    else if (!HANDLED.has(key) && value !== undefined && value !== null) dropped.push(key);
  }
  // OpenAI's temperature runs 0–2, Anthropic's 0–1.
  if (typeof params.temperature === 'number') out.temperature = Math.min(1, Math.max(0, params.temperature));
  const stop = params.stop_sequences ?? params.stop;
  if (typeof stop === 'string') out.stop_sequences = [stop];
  else if (Array.isArray(stop) && stop.length > 0) out.stop_sequences = stop;
  const tools = convertTools(params.tools, dropped);
  if (tools) out.tools = tools;
  const toolChoice = tools ? convertToolChoice(params.tool_choice, params.parallel_tool_calls) : undefined;
  if (toolChoice) out.tool_choice = toolChoice;
  return out;
}

/** Anthropic fields for an OpenAI-shaped conversation and its parameters. */
export function toAnthropic(messages: readonly ChatMessage[], params: Json): AnthropicConversion {
  const problems: string[] = [];
  const dropped: string[] = [];
  const system = messages
    .filter((m) => m.role === 'system' || m.role === 'developer')
    .map((m) => text(m.content))
    .filter((part) => part !== '');
  const turns: AnthropicConversion['messages'] = [];
  for (const message of messages) {
    if (message.role === 'system' || message.role === 'developer') continue;
    const converted = blocksOf(message, problems);
    if (!converted) continue;
    if (converted.blocks.length === 0) {
      problems.push(`an empty ${message.role} message`);
      continue;
    }
    // The Messages API alternates roles: consecutive turns of one role (tool results, say) become one turn.
    const last = turns[turns.length - 1];
    if (last && last.role === converted.role) {
      const previous = typeof last.content === 'string' ? [{ type: 'text', text: last.content }] : last.content;
      last.content = [...previous, ...converted.blocks];
    } else {
      // A plain string stays a string, as the request had it.
      const plain = typeof message.content === 'string' && converted.blocks.length === 1 && converted.blocks[0]?.type === 'text';
      turns.push({ role: converted.role, content: plain ? (message.content as string) : converted.blocks });
    }
  }
  if (turns.length === 0) problems.push('no user or assistant message');
  const result: AnthropicConversion = { messages: turns, params: convertParams(params, dropped), dropped, problems };
  if (system.length > 0) result.system = system.join('\n\n');
  return result;
}
