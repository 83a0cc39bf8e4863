// Scripted loopback servers that behave like real providers where bluegreen's requests could go wrong:
// auth headers, paths, the parameters each model refuses (with the provider's own error shapes), streams.
import type http from 'node:http';
import { startServer, type Recorded, type TestServer } from './server.js';

type Body = Record<string, unknown>;

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function openAiError(
  res: http.ServerResponse,
  status: number,
  message: string,
  param: string | null,
  code: string | null,
  type = 'invalid_request_error',
): void {
  send(res, status, { error: { message, type, param, code } });
}

// A steady answer time: the plans' latency comparisons then compare like with like, not loopback jitter.
const ANSWER_DELAY_MS = 20;

const ANSWER = 'Thanks for reaching out. Restart the router, then check the status page for outages.';

/** OpenAI's reasoning-model rules, as its API enforces them (o1, o3, o4, gpt-5 but not gpt-5-chat). */
function rejectsLikeReasoningModel(model: string): boolean {
  const name = model.slice(model.lastIndexOf('/') + 1);
  return /^o\d/.test(name) || (/^gpt-5/.test(name) && !/chat/.test(name));
}

/** The 400 an OpenAI reasoning model gives a classic request, or undefined when the body is acceptable. */
function reasoningRejection(body: Body): { message: string; param: string; code: string } | undefined {
  if ('max_tokens' in body) {
    return {
      message: "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
      param: 'max_tokens',
      code: 'unsupported_parameter',
    };
  }
  for (const param of ['temperature', 'top_p']) {
    const value = body[param];
    if (value !== undefined && value !== 1) {
      return {
        message: `Unsupported value: '${param}' does not support ${JSON.stringify(value)} with this model. Only the default (1) value is supported.`,
        param,
        code: 'unsupported_value',
      };
    }
  }
  return undefined;
}

function chatCompletion(res: http.ServerResponse, body: Body, servedModel: string, reasoning: boolean): void {
  const usage = {
    prompt_tokens: 30,
    completion_tokens: reasoning ? 90 : 20,
    total_tokens: reasoning ? 120 : 50,
    ...(reasoning ? { completion_tokens_details: { reasoning_tokens: 70 } } : {}),
  };
  if (body.stream !== true) {
    send(res, 200, {
      id: 'chatcmpl-scripted',
      object: 'chat.completion',
      created: 1_741_570_000,
      model: servedModel,
      choices: [{ index: 0, message: { role: 'assistant', content: ANSWER, refusal: null }, finish_reason: 'stop' }],
      usage,
    });
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const chunk = (delta: Body, finish: string | null) => ({
    id: 'chatcmpl-s',
    object: 'chat.completion.chunk',
    model: servedModel,
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  res.write(`data: ${JSON.stringify(chunk({ role: 'assistant', content: '' }, null))}\n\n`);
  for (const word of ANSWER.split(/(?<= )/)) res.write(`data: ${JSON.stringify(chunk({ content: word }, null))}\n\n`);
  res.write(`data: ${JSON.stringify(chunk({}, 'stop'))}\n\n`);
  const options = body.stream_options as Body | undefined;
  if (options?.include_usage === true)
    res.write(`data: ${JSON.stringify({ id: 'chatcmpl-s', object: 'chat.completion.chunk', model: servedModel, choices: [], usage })}\n\n`);
  res.end('data: [DONE]\n\n');
}

/** Checks a chat body as OpenAI does for the model, then answers it. */
function openAiChat(req: Recorded, res: http.ServerResponse, model: string, servedModel: string): void {
  const body = req.json ?? {};
  const reasoning = rejectsLikeReasoningModel(model);
  const rejection = reasoning ? reasoningRejection(body) : undefined;
  if (rejection) return openAiError(res, 400, rejection.message, rejection.param, rejection.code);
  if ('max_tokens' in body && 'max_completion_tokens' in body) {
    return openAiError(res, 400, 'max_tokens and max_completion_tokens cannot both be set', 'max_tokens', 'invalid_value');
  }
  setTimeout(() => chatCompletion(res, body, servedModel, reasoning), ANSWER_DELAY_MS);
}

export interface OpenAiLikeOptions {
  key: string;
  models: string[];
}

/** api.openai.com, an OpenAI-compatible relay (OpenRouter, LiteLLM), under /v1. */
export function startOpenAiLike(options: OpenAiLikeOptions): Promise<TestServer> {
  return startServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${options.key}`) {
      return openAiError(res, 401, 'Incorrect API key provided.', null, 'invalid_api_key');
    }
    if (req.method === 'GET' && req.url === '/v1/models') {
      return send(res, 200, { object: 'list', data: options.models.map((id) => ({ id, object: 'model', owned_by: 'scripted' })) });
    }
    if (req.method === 'POST' && req.url === '/v1/chat/completions') {
      const model = text(req.json?.model);
      if (!options.models.includes(model)) {
        return openAiError(res, 404, `The model \`${model}\` does not exist or you do not have access to it.`, null, 'model_not_found');
      }
      return openAiChat(req, res, model, model);
    }
    openAiError(res, 404, `Invalid URL (${req.method} ${req.url})`, null, null);
  });
}

export interface AzureLikeOptions {
  key: string;
  /** Deployment name -> model. */
  deployments: Record<string, string>;
}

/** An Azure OpenAI resource: deployments path with api-version, api-key header, the v1 path too. */
export function startAzureLike(options: AzureLikeOptions): Promise<TestServer> {
  return startServer((req, res) => {
    if (req.headers['api-key'] !== options.key) {
      return send(res, 401, { error: { code: '401', message: 'Access denied due to invalid subscription key or wrong API endpoint.' } });
    }
    const url = new URL(req.url, 'http://azure.test');
    const deployment = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/.exec(url.pathname)?.[1];
    const v1 = url.pathname === '/openai/v1/chat/completions';
    if (req.method === 'GET' && (url.pathname === '/openai/models' || url.pathname === '/openai/v1/models')) {
      return send(res, 200, { object: 'list', data: Object.values(options.deployments).map((id) => ({ id, object: 'model' })) });
    }
    if (req.method === 'POST' && (deployment !== undefined || v1)) {
      if (deployment !== undefined && !url.searchParams.get('api-version')) {
        return send(res, 404, { error: { code: '404', message: 'Resource not found' } });
      }
      const name = deployment ?? text(req.json?.model);
      const model = options.deployments[decodeURIComponent(name)];
      if (model === undefined) {
        return send(res, 404, { error: { code: 'DeploymentNotFound', message: 'The API deployment for this resource does not exist.' } });
      }
      return openAiChat(req, res, model, `${model}-2025-08-07`);
    }
    send(res, 404, { error: { code: '404', message: 'Resource not found' } });
  });
}

// The Messages API's top-level fields; anything else is "Extra inputs are not permitted".
const ANTHROPIC_FIELDS = new Set([
  'model',
  'messages',
  'system',
  'max_tokens',
  'temperature',
  'top_p',
  'top_k',
  'stop_sequences',
  'stream',
  'tools',
  'tool_choice',
  'thinking',
  'metadata',
  'service_tier',
]);

function anthropicError(res: http.ServerResponse, status: number, type: string, message: string): void {
  send(res, status, { type: 'error', error: { type, message }, request_id: 'req_scripted' });
}

function anthropicRejection(body: Body): string | undefined {
  for (const key of Object.keys(body)) if (!ANTHROPIC_FIELDS.has(key)) return `${key}: Extra inputs are not permitted`;
  if (typeof body.max_tokens !== 'number') return 'max_tokens: Field required';
  const temperature = body.temperature;
  if (typeof temperature === 'number' && temperature > 1) return 'temperature: Input should be less than or equal to 1';
  const tools = Array.isArray(body.tools) ? (body.tools as Body[]) : [];
  for (const [index, tool] of tools.entries()) {
    if (typeof tool.name !== 'string') return `tools.${index}.name: Field required`;
    if (typeof tool.input_schema !== 'object' || tool.input_schema === null) return `tools.${index}.input_schema: Field required`;
    if ('function' in tool || 'type' in tool) return `tools.${index}: Extra inputs are not permitted`;
  }
  if (body.tool_choice !== undefined && (typeof body.tool_choice !== 'object' || body.tool_choice === null)) {
    return 'tool_choice: Input should be a valid dictionary or object';
  }
  const messages = Array.isArray(body.messages) ? (body.messages as Body[]) : [];
  if (messages.length === 0) return 'messages: Field required';
  for (const [index, message] of messages.entries()) {
    if (message.role !== 'user' && message.role !== 'assistant') return `messages.${index}.role: Input should be 'user' or 'assistant'`;
  }
  return undefined;
}

function anthropicAnswer(res: http.ServerResponse, body: Body, model: string): void {
  const usage = { input_tokens: 40, output_tokens: 25 };
  if (body.stream !== true) {
    return send(res, 200, {
      id: 'msg_scripted',
      type: 'message',
      role: 'assistant',
      model,
      content: [
        { type: 'thinking', thinking: 'The user needs a fix for the evening drops.', signature: 'c2lnbmF0dXJl' },
        { type: 'text', text: ANSWER },
      ],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage,
    });
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const event = (name: string, data: Body) => res.write(`event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`);
  event('message_start', {
    message: { id: 'msg_s', type: 'message', role: 'assistant', model, content: [], stop_reason: null, usage: { input_tokens: 40, output_tokens: 1 } },
  });
  event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
  event('ping', {});
  for (const word of ANSWER.split(/(?<= )/)) event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: word } });
  event('content_block_stop', { index: 0 });
  event('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 25 } });
  event('message_stop', {});
  res.end();
}

/** api.anthropic.com's Messages API under /v1, with extended thinking in its answers. */
export function startAnthropicLike(options: { key: string; models: string[] }): Promise<TestServer> {
  return startServer((req, res) => {
    if (req.headers['x-api-key'] !== options.key) return anthropicError(res, 401, 'authentication_error', 'invalid x-api-key');
    if (req.headers['anthropic-version'] !== '2023-06-01') return anthropicError(res, 400, 'invalid_request_error', 'anthropic-version: header is required');
    if (req.method === 'GET' && req.url.startsWith('/v1/models')) {
      return send(res, 200, { data: options.models.map((id) => ({ id, type: 'model', display_name: id })), has_more: false });
    }
    if (req.method !== 'POST' || req.url !== '/v1/messages') return anthropicError(res, 404, 'not_found_error', 'Not found');
    const body = req.json ?? {};
    const model = text(body.model);
    if (!options.models.includes(model)) return anthropicError(res, 404, 'not_found_error', `model: ${model}`);
    const rejection = anthropicRejection(body);
    if (rejection) return anthropicError(res, 400, 'invalid_request_error', rejection);
    setTimeout(() => anthropicAnswer(res, body, model), ANSWER_DELAY_MS);
  });
}
