// OpenAI's two APIs spell some request parameters differently (chat completions' `verbosity` is the Responses API's
// `text.verbosity`) and have some the other lacks (`seed`, `stop`; `instructions`). A plan's `request.params` are
// written once, in chat completions' spelling, for both of an arm's paths: the proxy's /v1/responses requests get
// them in that API's spelling, without those it has no spelling for; `validate` warns about both kinds.

/** Chat completions parameters the Responses API spells inside an object of its own: [object, field]. */
const NESTED_IN_RESPONSES: Readonly<Record<string, readonly [string, string]>> = {
  verbosity: ['text', 'verbosity'],
  reasoning_effort: ['reasoning', 'effort'],
};

/** Chat completions' token limits: the Responses API's is max_output_tokens. */
const TOKEN_LIMITS = new Set(['max_tokens', 'max_completion_tokens']);

/** Chat completions parameters with no Responses API counterpart (response_format is text.format, shaped otherwise). */
export const CHAT_ONLY_PARAMS: ReadonlySet<string> = new Set([
  'audio',
  'frequency_penalty',
  'function_call',
  'functions',
  'logit_bias',
  'logprobs',
  'modalities',
  'n',
  'prediction',
  'presence_penalty',
  'response_format',
  'seed',
  'stop',
  'web_search_options',
]);

/** Responses API parameters chat completions does not take (refused with 400 there). */
export const RESPONSES_ONLY_PARAMS: ReadonlySet<string> = new Set([
  'background',
  'context_management',
  'conversation',
  'include',
  'input',
  'instructions',
  'max_output_tokens',
  'max_tool_calls',
  'previous_response_id',
  'prompt',
  'reasoning',
  'text',
  'truncation',
]);

/** Objects of a Responses body whose plan fields are merged into the application's (its text.format stays). */
const MERGED_OBJECTS = new Set(['text', 'reasoning']);

/** The plan's parameters as a Responses API body takes them. */
export interface ResponsesParams {
  /** Top-level fields set as they are. */
  set: Record<string, unknown>;
  /** Fields set inside an object of the body (`text`, `reasoning`), merged with what the application sent there. */
  within: Record<string, Record<string, unknown>>;
  /** Parameters the Responses API has no spelling for: not sent on it. */
  left: string[];
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `params` (an arm's, chat completions' spelling, reasoning_effort included) spelled for the Responses API. */
export function responsesParams(params: Readonly<Record<string, unknown>>): ResponsesParams {
  const out: ResponsesParams = { set: {}, within: {}, left: [] };
  for (const [key, value] of Object.entries(params)) {
    const nested = NESTED_IN_RESPONSES[key];
    if (nested) (out.within[nested[0]] ??= {})[nested[1]] = value;
    else if (TOKEN_LIMITS.has(key)) out.set.max_output_tokens = value;
    else if (CHAT_ONLY_PARAMS.has(key)) out.left.push(key);
    else if (MERGED_OBJECTS.has(key) && isPlainObject(value)) out.within[key] = { ...out.within[key], ...value };
    else out.set[key] = value;
  }
  return out;
}

/** A Responses body with the arm's parameters applied (`body` is the arm's own copy, changed in place). */
export function applyResponsesParams(body: Record<string, unknown>, params: ResponsesParams): Record<string, unknown> {
  Object.assign(body, params.set);
  for (const [key, fields] of Object.entries(params.within)) {
    const current = body[key];
    body[key] = { ...(isPlainObject(current) ? current : {}), ...fields };
  }
  return body;
}
