// The plan's live traffic proxy (`proxy`): listen address, client keys, limits, admin API and the rollout's controller.
import { z } from 'zod';
import { countUpTo, duration, envName, modelName, NOT_OFF, period, shownText, timeLimit } from './schema-fields.js';
import { MAX_PORT } from '../core/port.js';

// Limits past these are typos (1e15 for 1e5), not capacity plans: said so at validate time, not found in production.
const GIB = 1024 * 1024 * 1024;
const byteSize = z.number().int('must be a whole number of bytes').positive('must be more than 0').max(GIB, `must be at most ${GIB} (1 GiB)`);

const proxyLimitsSchema = z.strictObject({
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

const proxyAdminSchema = z.strictObject({
  listen: listenAddress.default('127.0.0.1:8788').meta({ description: 'Where the admin API listens (loopback by default)' }),
  token_env: envName.meta({ description: 'Variable holding the token admin calls must carry (the rollout reads the same variable)' }),
});

const proxyControllerSchema = z.strictObject({
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
  // A reasoning model's stream can open with a role chunk, then think for minutes: held that long, its client (or a
  // load balancer's time-to-first-byte limit) saw no headers from green, where blue's went out at once.
  opening_hold: timeLimit.default(10_000).meta({
    description:
      "Longest a green stream's start (its headers and first events, before any output) is held while blue can still answer for it (proxy.fallback); then it is sent as it is, and a failure after it reaches the client",
  }),
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

/** A plan's proxy block, or its defaults when it has none (a rollout's live side, and tests, read such plans). */
export function proxyBlockOf(plan: { proxy?: z.output<typeof proxySchema> }): z.output<typeof proxySchema> {
  return plan.proxy ?? proxySchema.parse({});
}
