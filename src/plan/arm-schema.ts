// The plan's upstream and arms: endpoint, key, timeouts, retries and headers; each arm's model, price and request shape.
import { z } from 'zod';
import { duration, envName, hookVisibleName, httpUrl, modelName, price, timeLimit } from './schema-fields.js';
import { simulateSchema } from './sim-schema.js';

export const priceSchema = z.strictObject({
  input_per_mtok: price.meta({ description: 'Price per million prompt tokens' }),
  output_per_mtok: price.meta({ description: 'Price per million completion tokens' }),
});

/**
 * Headers a plan must not set on upstream requests: they frame the request or its connection, which the HTTP
 * client sets from what it sends (content-length: 5 failed every request on both arms, and validate passed it).
 */
const RESERVED_HEADERS: Readonly<Record<string, string>> = {
  'content-length': "bluegreen sets it from each request's body, and a fixed one fails every request",
  'transfer-encoding': "bluegreen's HTTP client frames each request's body itself, and undici refuses the header (every request fails)",
  connection: 'the HTTP client manages its pooled connections itself, and undici refuses the header (every request fails)',
  'keep-alive': 'the HTTP client manages its pooled connections itself, and undici refuses the header (every request fails)',
  'proxy-connection': 'it is a connection header, not for the upstream',
  upgrade: 'a request that asks to switch protocols gets no chat answer, and undici refuses the header (every request fails)',
  te: 'it asks for a transfer coding the client does not read, and is not forwarded anyway',
  trailer: 'it announces trailer fields no request sends',
  expect: 'undici does not support it (every request fails)',
  host: 'it is taken from base_url, and another name sends every request to the wrong site (put the name in base_url instead)',
  'accept-encoding': 'bluegreen reads answers as sent, so a compressed answer would be unreadable (every request would fail as bad_response)',
  'content-encoding': 'the body bluegreen sends is plain JSON, and the upstream would fail to decode it',
};

/** An HTTP header name (RFC 9110 token): anything else makes the HTTP client refuse every request. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** CR, LF and NUL cannot be sent in a header value. */
const HEADER_VALUE = /^[^\r\n\0]*$/;

function headers(description: string) {
  return z
    .record(z.string(), z.string())
    .superRefine((record, ctx) => {
      for (const [name, value] of Object.entries(record)) {
        const reserved = RESERVED_HEADERS[name.toLowerCase()];
        const problem = !HEADER_NAME.test(name)
          ? "is not a header name (letters, digits and !#$%&'*+-.^_`|~ only): every request would fail"
          : reserved
            ? `must not be set: ${reserved}`
            : !HEADER_VALUE.test(value)
              ? 'must not hold a line break or NUL: every request would fail'
              : undefined;
        if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [name] });
      }
    })
    .optional()
    .meta({ description });
}

const timeoutSchema = z.strictObject({
  connect: timeLimit.default(10_000),
  request: timeLimit.default(60_000),
  idle: timeLimit.default(30_000).meta({ description: 'Longest silence inside a stream' }),
});

const retriesSchema = z.strictObject({
  max: z.number().int().min(0).max(20).default(3),
  base_delay: duration.default(500),
  max_delay: duration.default(8000),
});

const upstreamFields = {
  base_url: httpUrl.optional().meta({ description: 'An OpenAI- or Anthropic-compatible endpoint, e.g. https://api.openai.com/v1' }),
  simulate: simulateSchema.optional().meta({ description: 'Run the built-in simulated upstream on loopback instead of base_url' }),
  api: z.enum(['openai', 'anthropic', 'azure']).optional().meta({
    description: 'openai (any OpenAI-compatible endpoint), anthropic (Messages API) or azure (Azure OpenAI: api-key header, deployments)',
  }),
  api_key_env: envName.optional(),
  api_version: z.string().min(1).optional().meta({
    description: 'Azure OpenAI api-version query parameter, e.g. 2024-10-21 (not needed on the /openai/v1 path)',
  }),
  models_endpoint: z.enum(['skip', 'warn', 'require']).optional().meta({
    description:
      'GET /models in preflight: require (must list the models), warn (default: an unlisted model is a warning), skip (never asked; a tiny chat request proves each arm instead)',
  }),
  timeout: timeoutSchema.optional(),
  retries: retriesSchema.optional(),
  headers: headers('Extra request headers (not secrets; not the framing ones: content-length, transfer-encoding, connection, host...)'),
};

export const upstreamSchema = z.strictObject(upstreamFields);

const paramName = z
  .string()
  .min(1)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a request parameter name, like temperature');

const requestSchema = z.strictObject({
  token_param: z.enum(['auto', 'max_tokens', 'max_completion_tokens']).default('auto').meta({
    description: 'Which field carries the output token limit; auto: max_completion_tokens for o1/o3/o4/gpt-5 models, else max_tokens',
  }),
  drop: z.array(paramName).optional().meta({
    description: 'Request parameters never sent to this arm (replaces the default: temperature, top_p, ... on reasoning models)',
  }),
  reasoning_effort: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'Sent as reasoning_effort (OpenAI reasoning models)', examples: ['minimal', 'low', 'medium', 'high'] }),
  params: z.record(z.string(), z.unknown()).optional().meta({ description: 'Body fields set on every request to this arm, e.g. { verbosity: low }' }),
  headers: headers('Extra request headers for this arm (not secrets; not the framing ones: content-length, transfer-encoding, connection, host...)'),
});

export const armSchema = z.strictObject({
  // Sent as written: " gpt-4o" is a model no upstream knows.
  model: modelName(hookVisibleName.min(1, 'must name a model').regex(/^(?:\S(?:.*\S)?)?$/, 'must not start or end with spaces')),
  deployment: z.string().min(1).optional().meta({ description: 'Azure OpenAI deployment name (default: the model name)' }),
  price: priceSchema.optional(),
  upstream: upstreamSchema.optional().meta({ description: 'Overrides of the top-level upstream for this arm' }),
  request: requestSchema.optional().meta({ description: "How this arm's requests are adapted to its model" }),
});
