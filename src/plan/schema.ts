// The rollout plan's schema. Types are inferred from it; `bluegreen schema` turns it into JSON Schema.
// Every object is strict so a misspelt key is an error (with a "did you mean" hint), not a silent default.
import { z } from 'zod';
import { MAX_DURATION_MS, MAX_DURATION_TEXT, parseDuration } from './duration.js';
import { CONTROL_CHARACTER_RANGES } from '../core/format.js';
import { MAX_PORT } from '../core/port.js';
import { MAX_UPSTREAM_WORD } from '../upstream/reply.js';

const DURATION_HINT = 'a duration with a unit, like 500ms, 30s, 5m or 1h';

/** A duration string in the plan, milliseconds once parsed. */
export const duration = z
  .string({ error: `expected ${DURATION_HINT}` })
  .refine((text) => parseDuration(text) !== undefined, { error: `expected ${DURATION_HINT}` })
  .refine((text) => (parseDuration(text) ?? 0) <= MAX_DURATION_MS, { error: `must be at most ${MAX_DURATION_TEXT}` })
  .transform((text) => parseDuration(text) as number)
  .meta({ description: `Duration: ${DURATION_HINT}; at most ${MAX_DURATION_TEXT}`, examples: ['500ms', '30s', '5m', '1h'] });

/** A timer's period or a time limit: 0 would spin the event loop, or read as "no limit" to some clients. */
const period = (minMs: number, text: string, why = '') => duration.refine((ms) => ms >= minMs, { error: `must be at least ${text}${why}` });
const timeLimit = period(1, '1ms');
/** Node and nginx read a timeout of 0 as "none"; the proxy's limits have no such value. */
const NOT_OFF = ' (0 is not "no limit": a proxy cannot wait without one, and 0 would cut every request still arriving)';

const share = z.number({ error: 'expected a number between 0 and 1' }).min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');
const nonNegative = z.number().nonnegative('must be 0 or more');
const positiveInt = z.number().int('must be a whole number').positive('must be more than 0');
/** Counts and sizes have a ceiling far above any real use, so a typo (1e15) is an error, not a hang or a crash. */
const atMost = (max: number) => `must be at most ${max.toLocaleString('en-US')}`;
const countUpTo = (max: number) => positiveInt.max(max, atMost(max));
const wholeUpTo = (max: number) => z.number().int('must be a whole number').nonnegative('must be 0 or more').max(max, atMost(max));
const price = nonNegative.max(100_000, atMost(100_000));

const httpUrl = z.string().refine((text) => {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}, 'expected an http:// or https:// URL');

/**
 * Text the dashboard, the log lines, the reports and CI logs print as is: a control character (an escape
 * sequence in a plan from a pull request) could garble the terminal or forge log lines.
 */
const shownText = z
  .string()
  .regex(
    new RegExp(`^[^${CONTROL_CHARACTER_RANGES}]*$`),
    'must not hold control characters (tabs, newlines, escapes, bidirectional overrides): it is printed as is',
  );

/**
 * Names hooks get in their environment (BLUEGREEN_PLAN, BLUEGREEN_BLUE_MODEL...): Linux refuses to start a process
 * with a variable over 128 KiB (MAX_ARG_STRLEN), so a 200 KB plan name kept every hook from starting, on_rollback's
 * too. The cap is far under that, and what a dashboard line or a report heading can show.
 */
export const MAX_NAME_LENGTH = 256;
const HOOK_ENV_WHY = `: it is shown on one line and hooks get it in their environment (BLUEGREEN_PLAN...), where Linux refuses a variable over 128 KiB`;
const hookVisibleName = shownText.max(MAX_NAME_LENGTH, `must be at most ${MAX_NAME_LENGTH} characters${HOOK_ENV_WHY}`);

/**
 * What shows as nothing or as a plain space: format characters (zero-width spaces and joiners, soft hyphens, word
 * joiners, byte order marks, tags), other spaces than U+0020, variation selectors and Hangul fillers. A model name
 * holding one looks like another, yet is another model to the upstream and to the proxy's routing.
 */
// The combining ones (U+034F, U+1160, the variation selectors) as alternatives: in a class they read as joined.
const INVISIBLE = /[\p{Cf}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\u115f\u3164\uffa0]|\u034f|\u1160|\p{Variation_Selector}/u;

/** A model name as the upstream and the proxy see it: printable, and nothing in it invisible. */
function modelName<T extends z.ZodType<string>>(text: T) {
  return text.superRefine((name, ctx) => {
    const found = INVISIBLE.exec(name);
    if (!found) return;
    const code = (found[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
    ctx.addIssue({
      code: 'custom',
      message: `must not hold invisible characters (U+${code} at character ${[...name.slice(0, found.index)].length + 1}): a model name that looks like another is another model to the upstream`,
    });
  });
}

/** An exec hook's command is one argument to /bin/sh, under the same 128 KiB limit; a longer one belongs in a script. */
export const MAX_HOOK_COMMAND_LENGTH = 16_384;

/** envName's message: a plan error with it never shows what it found (zod-problems.ts), which may be the key itself. */
export const ENV_NAME_MESSAGE = 'expected the name of an environment variable (the key itself never goes in a plan)';
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, ENV_NAME_MESSAGE);

export const priceSchema = z.strictObject({
  input_per_mtok: price.meta({ description: 'Price per million prompt tokens' }),
  output_per_mtok: price.meta({ description: 'Price per million completion tokens' }),
});

// --- simulated upstream ------------------------------------------------------------------------

const latencySchema = z.strictObject({ p50: duration, p95: duration });

const faultFields = {
  latency: latencySchema.optional(),
  ttft: duration.optional().meta({ description: 'Time to first token when streaming' }),
  tokens_per_second: z.number().min(0.1, 'must be at least 0.1').max(1_000_000, atMost(1_000_000)).optional(),
  output_tokens: z
    .strictObject({ min: wholeUpTo(1_000_000), max: countUpTo(1_000_000) })
    .refine((range) => range.min <= range.max, { error: 'must not be more than output_tokens.max', path: ['min'] })
    .optional(),
  error_rate: share.optional().meta({ description: 'Share of requests answered 500 with an error body' }),
  rate_limit_rate: share.optional().meta({ description: 'Share answered 429 with retry-after' }),
  overload_rate: share.optional().meta({ description: 'Share answered 529 overloaded_error (Anthropic side; 503 on OpenAI)' }),
  timeout_rate: share.optional().meta({ description: 'Share that never answers' }),
  bad_response_rate: share.optional().meta({ description: 'Share with empty content, invalid JSON or a cut stream' }),
};

export const simChangeSchema = z.strictObject({
  at: duration.meta({ description: 'Time since the simulator started' }),
  ...faultFields,
});

export const simModelSchema = z.strictObject({
  ...faultFields,
  changes: z.array(simChangeSchema).optional(),
});

export const simulateSchema = z.strictObject({
  // The random source keeps 32 bits: -1 would be the same seed as 4294967295, so the range is the one --seed takes.
  seed: z
    .number()
    .int('must be a whole number from 0 to 4294967295')
    .min(0, 'must be a whole number from 0 to 4294967295')
    .max(2 ** 32 - 1, 'must be a whole number from 0 to 4294967295')
    .optional(),
  port: z.number().int().min(0).max(MAX_PORT).optional(),
  models: z.record(z.string(), simModelSchema).default({}),
  default: simModelSchema.optional().meta({ description: 'Profile for models not listed' }),
});

// --- upstream ------------------------------------------------------------------------------------

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

// --- arms ----------------------------------------------------------------------------------------

const paramName = z
  .string()
  .min(1)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a request parameter name, like temperature');

export const requestSchema = z.strictObject({
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

// --- traffic -------------------------------------------------------------------------------------

export const trafficSchema = z.strictObject({
  rate: z.number().positive('must be more than 0 requests per second').max(100_000, atMost(100_000)),
  max_in_flight: countUpTo(100_000).default(200),
  stream: share.default(0),
  max_tokens: countUpTo(1_000_000).default(256),
  synthetic: z
    .strictObject({
      share: share.optional(),
      prompts: z
        .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
        .optional()
        .meta({ description: 'A prompts file (one a line) or an inline list' }),
      users: countUpTo(100_000_000).optional().meta({ description: 'Give synthetic requests one of N user ids (sticky split)' }),
    })
    .optional(),
  sampled: z
    .strictObject({
      share: share.optional(),
      file: z.string().min(1),
      sample_rate: z.number().gt(0, 'must be more than 0').max(1, 'must be at most 1').default(1),
    })
    .optional(),
});

// --- stages, analysis, health, hooks -------------------------------------------------------------

export const stageSchema = z.strictObject({
  name: shownText.optional(),
  duration,
  green_weight: share,
  mirror: share.optional().meta({ description: 'Share of blue-routed proxy requests also sent to green in the background, judged and discarded (0..1)' }),
});

export const qualitySchema = z.strictObject({
  tool_calls: z.enum(['pass', 'check']).optional().meta({
    description: 'A reply that calls tools: pass (default: its text is not checked) or check (its text must pass the checks too)',
  }),
  refusals: z.enum(['fail', 'pass']).optional().meta({ description: 'A refusal counts as a quality failure (fail, the default) or not' }),
  min_content_length: wholeUpTo(1_000_000).optional(),
  json: z.boolean().optional(),
  contains: z.union([z.string(), z.array(z.string())]).optional(),
  regex: z
    .string()
    .refine((text) => {
      try {
        new RegExp(text);
        return true;
      } catch {
        return false;
      }
    }, 'is not a valid regular expression')
    .optional(),
  // Results keep an upstream's finish reason to MAX_UPSTREAM_WORD characters (cut to one line past it): a longer
  // entry could never match one, so it is refused rather than quietly failing answers.
  finish_reasons: z
    .array(
      z
        .string()
        .max(
          MAX_UPSTREAM_WORD,
          `must be at most ${MAX_UPSTREAM_WORD} characters: results keep an upstream's finish reason to ${MAX_UPSTREAM_WORD}, so a longer entry never matches`,
        ),
    )
    .min(1)
    .optional()
    .meta({
      description: 'Accepted finish reasons, as the upstream says them (end_turn) or normalised (stop, length, tool_calls, content_filter, refusal)',
    }),
});

export const thresholdsSchema = z.strictObject({
  error_rate: share.optional(),
  consecutive_errors: countUpTo(1_000_000).optional(),
  latency_p95: duration.optional(),
  latency_p99: duration.optional(),
  ttft_p95: duration.optional(),
  quality_fail_rate: share.optional(),
});

export const ON_INCONCLUSIVE = ['pass', 'extend', 'pause'] as const;
export const ON_UNJUDGED = ['rollback', 'promote'] as const;

export const analysisSchema = z.strictObject({
  interval: period(100, '100ms').default(2000),
  confidence: z
    .number()
    .min(0.5, 'must be at least 0.5')
    .lt(1, 'must be less than 1')
    .default(0.99)
    .meta({ description: 'A green within its limits is rolled back in at most 1 - confidence of rollouts' }),
  min_requests: wholeUpTo(10_000_000).default(20).meta({ description: 'A floor per arm and stage before a rate is judged' }),
  thresholds: thresholdsSchema.default({}),
  compare_to_blue: z
    .strictObject({
      max_error_rate_increase: share.optional(),
      max_latency_p95_ratio: z
        .number()
        .positive('must be more than 0')
        .max(1000, atMost(1000))
        .optional()
        .meta({ description: 'Green p95 / blue p95 at most this' }),
      max_quality_fail_rate_increase: share.optional().meta({ description: 'Green quality failure rate at most this above blue' }),
    })
    .optional(),
  quality: qualitySchema.optional(),
  on_inconclusive: z
    .enum(ON_INCONCLUSIVE)
    .default('pass')
    .meta({ description: 'At a stage end with a rule undecided: pass on, extend the stage, or pause for an operator' }),
  max_extensions: z
    .number()
    .int()
    .min(1, 'must be at least 1')
    .max(10, 'must be at most 10')
    .default(2)
    .meta({ description: 'on_inconclusive: extend adds the stage duration again at most this many times, then passes' }),
  on_unjudged: z.enum(ON_UNJUDGED).default('rollback').meta({
    description:
      'When every stage passed with nothing judged (green answered fewer than min_requests, or none successfully): roll back (exit 10), or promote anyway',
  }),
});

export const healthCheckSchema = z.strictObject({
  interval: period(100, '100ms').default(30_000),
  failures_to_rollback: countUpTo(10_000).default(3),
  timeout: timeLimit.default(5000),
  probe: z.enum(['models', 'chat']).optional().meta({
    description: "models: GET /models answers; chat: a tiny chat request to green's model succeeds (default when models_endpoint is skip)",
  }),
});

export const hookSchema = z
  .strictObject({
    exec: z
      .string()
      .min(1)
      .max(
        MAX_HOOK_COMMAND_LENGTH,
        `must be at most ${MAX_HOOK_COMMAND_LENGTH.toLocaleString('en-US')} characters: it is passed to /bin/sh as one argument, which Linux limits to 128 KiB; put a longer command in a script`,
      )
      .optional()
      .meta({ description: 'Shell command, run in the plan folder' }),
    webhook: httpUrl.optional(),
    timeout: timeLimit.default(30_000),
    retries: z.number().int().min(0).max(10).default(2),
  })
  .refine((hook) => (hook.exec === undefined) !== (hook.webhook === undefined), 'needs exactly one of exec or webhook');

export const hooksSchema = z.strictObject({
  on_stage: hookSchema.optional(),
  on_rollback: hookSchema.optional(),
  on_promote: hookSchema.optional(),
  on_abort: hookSchema.optional(),
  pass_env: z.array(envName).optional().meta({ description: 'Key variables (api_key_env) exec hooks may see; by default hooks never get them' }),
});

// --- live traffic proxy ---------------------------------------------------------------------------

// Limits past these are typos (1e15 for 1e5), not capacity plans: said so at validate time, not found in production.
const GIB = 1024 * 1024 * 1024;
const byteSize = z.number().int('must be a whole number of bytes').positive('must be more than 0').max(GIB, `must be at most ${GIB} (1 GiB)`);

export const proxyLimitsSchema = z.strictObject({
  max_body_bytes: byteSize.default(4 * 1024 * 1024).meta({ description: 'Largest request body accepted; larger ones get 413' }),
  // A 0 body_timeout, meant as "no limit", answered 408 to every body that came in more than one read.
  header_timeout: period(100, '100ms', NOT_OFF).default(10_000).meta({ description: 'Time a client has to send its request headers' }),
  body_timeout: period(100, '100ms', NOT_OFF)
    .default(30_000)
    .meta({ description: 'Time a client has to send its whole request, and to take an answer it stopped reading (then it is cut)' }),
  max_concurrency: countUpTo(1_000_000)
    .default(1024)
    .meta({ description: 'Requests served at once (chat requests and model lists); more are answered 503 with retry-after' }),
  max_connections: countUpTo(1_000_000)
    .default(4096)
    .meta({ description: 'Client connections open at once (idle keep-alive ones included); more are closed at once, so no one can exhaust file descriptors' }),
  max_mirror_in_flight: countUpTo(100_000).default(64).meta({ description: 'Mirror copies running at once on green; more are dropped and counted' }),
  max_response_bytes: byteSize.default(16 * 1024 * 1024).meta({
    description:
      'Largest non-streamed (or error) upstream answer read; a larger one fails as bad_response (502, or blue answers for green). A stream passes whole, but a line, or text in all, past it counts as bad_response',
  }),
  max_stream_duration: timeLimit.default(30 * 60_000).meta({
    description:
      "Longest a streamed answer may go on after its first byte (upstream.timeout.request bounds the wait for that byte, timeout.idle each silence after it); then it is cut as the arm's timeout",
  }),
  drain_timeout: duration.default(25_000).meta({
    description:
      'On SIGTERM, SIGINT or SIGHUP the proxy stops accepting and lets the requests in flight finish for up to this long (0: cuts them at once); a second signal cuts them. The default stays under the 30 s a Kubernetes pod gets before SIGKILL',
  }),
});

// A bare port (`listen: 8787`) is the likely slip: the message says what is wanted rather than "expected string".
// Not HOST:PORT, the port's range is not checked as well: `nowhere` also got "the port must be at most 65535".
const listenAddress = z
  .string({ error: 'expected HOST:PORT, like 127.0.0.1:8787' })
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, { error: 'expected HOST:PORT, like 127.0.0.1:8787', abort: true })
  .refine((text) => Number(text.slice(text.lastIndexOf(':') + 1)) <= MAX_PORT, `the port must be at most ${MAX_PORT}`);

export const proxyAdminSchema = z.strictObject({
  listen: listenAddress.default('127.0.0.1:8788').meta({ description: 'Where the admin API listens (loopback by default)' }),
  token_env: envName.meta({ description: 'Variable holding the token admin calls must carry (the rollout reads the same variable)' }),
});

export const proxyControllerSchema = z.strictObject({
  admin_urls: z
    .array(z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }))
    .min(1)
    .optional()
    .meta({ description: 'Admin base URLs of the proxies to drive (one per application host); default: the proxy found in the state folder' }),
  // A proxy goes back to blue whenever its lease runs out between two renewals (a third of it apart, at least
  // 50 ms, over HTTP): a lease of 1ms sent green next to nothing, and every stage passed unjudged to a promotion.
  lease: period(
    500,
    '500ms',
    ': a proxy serves blue whenever its lease runs out before the next renewal (every third of it, over HTTP), so green would get next to nothing and every stage would pass unjudged',
  )
    .default(5000)
    .meta({ description: 'How long a proxy keeps a route above blue without hearing from the rollout; renewed every third of it' }),
  // 0 read every proxy back to back, a thousand admin calls a second for nothing.
  poll_interval: period(50, '50ms').default(250).meta({ description: "How often the rollout reads each proxy's results" }),
  generated_traffic: z
    .boolean()
    .default(false)
    .meta({ description: "Also send the plan's generated traffic (synthetic/sampled) to both arms, judged with the live results and reported apart" }),
});

export const proxySchema = z.strictObject({
  listen: listenAddress.default('127.0.0.1:8787').meta({ description: "Where the proxy listens; the application's base URL becomes http://HOST:PORT/v1" }),
  client_keys_env: envName.optional().meta({ description: 'Variable holding the keys applications must present (comma-separated); required off loopback' }),
  fallback: z.boolean().default(true).meta({ description: 'A green attempt that fails before its first byte reached the client is answered by blue' }),
  alias: z
    .union([modelName(shownText.min(1)), z.array(modelName(shownText.min(1))).min(1)])
    .optional()
    .meta({ description: 'Other model names the application uses for the blue model; split like it' }),
  passthrough: z
    .union([z.literal('*'), z.array(modelName(shownText.min(1, 'must not be empty')))])
    .default('*')
    .meta({
      description:
        "Other models the application may ask for, sent to blue's upstream with its key. Default '*' (any); a list restricts it, and a request for another model gets 404",
    }),
  admin: proxyAdminSchema.optional().meta({ description: 'The admin API a rollout sets the route through; off without it' }),
  limits: proxyLimitsSchema.default({
    max_body_bytes: 4 * 1024 * 1024,
    header_timeout: 10_000,
    body_timeout: 30_000,
    max_concurrency: 1024,
    max_connections: 4096,
    max_mirror_in_flight: 64,
    max_response_bytes: 16 * 1024 * 1024,
    max_stream_duration: 30 * 60_000,
    drain_timeout: 25_000,
  }),
  controller: proxyControllerSchema
    .default({ lease: 5000, poll_interval: 250, generated_traffic: false })
    .meta({ description: 'How `bluegreen rollout` drives the proxies (needs `admin`)' }),
});

// --- the plan ------------------------------------------------------------------------------------

export const planSchema = z.strictObject({
  name: hookVisibleName
    .min(1, 'must not be empty')
    .meta({ description: `Shown in the dashboard, state and reports, and given to hooks; at most ${MAX_NAME_LENGTH} characters` }),
  upstream: upstreamSchema,
  blue: armSchema,
  green: armSchema,
  traffic: trafficSchema
    .optional()
    .meta({ description: 'The requests a rollout generates; required unless the plan has proxy.admin (and no proxy.controller.generated_traffic)' }),
  stages: z.array(stageSchema).min(1, 'needs at least one stage'),
  // Each key's own default, built afresh for every plan.
  analysis: analysisSchema.default(() => analysisSchema.parse({})),
  health_check: healthCheckSchema.optional(),
  hooks: hooksSchema.optional(),
  proxy: proxySchema.optional().meta({ description: 'Live traffic: how `bluegreen proxy` serves the application' }),
});

export type PlanInput = z.input<typeof planSchema>;
export type ParsedPlan = z.output<typeof planSchema>;
export type SimulateConfig = z.output<typeof simulateSchema>;
export type SimModelProfile = z.output<typeof simModelSchema>;
export type SimChange = z.output<typeof simChangeSchema>;
export type Price = z.output<typeof priceSchema>;
export type Stage = z.output<typeof stageSchema>;
export type Thresholds = z.output<typeof thresholdsSchema>;
export type QualityRules = z.output<typeof qualitySchema>;
export type AnalysisConfig = z.output<typeof analysisSchema>;
export type HealthCheckConfig = z.output<typeof healthCheckSchema>;
export type HookConfig = z.output<typeof hookSchema>;
export type HooksConfig = z.output<typeof hooksSchema>;
export type RequestConfig = z.output<typeof requestSchema>;
export type TrafficConfig = z.output<typeof trafficSchema>;
export type ProxyConfig = z.output<typeof proxySchema>;
export type ProxyLimits = z.output<typeof proxyLimitsSchema>;
export type ProxyController = z.output<typeof proxyControllerSchema>;

/** A plan's proxy block, or its defaults when it has none (a rollout's live side, and tests, read such plans). */
export function proxyBlockOf(plan: { proxy?: ProxyConfig }): ProxyConfig {
  return plan.proxy ?? proxySchema.parse({});
}
