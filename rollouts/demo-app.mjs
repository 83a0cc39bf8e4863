#!/usr/bin/env node
// The live demo's application: chat requests at a steady rate through `bluegreen proxy`, with the official
// openai SDK (installed by `npm ci`). Prints which arm answered each request, and a tally every 5 s and at
// the end (Ctrl-C). Exits 1 if any request failed, 2 on an option it cannot read. `--api responses` sends Responses API requests instead, each
// user continuing its last response (previous_response_id); `--api messages` sends Anthropic Messages API requests
// with the official @anthropic-ai/sdk, to a proxy of rollouts/demo-live-anthropic.yaml (127.0.0.1:8797 by default).
//   node rollouts/demo-app.mjs [--base-url URL] [--rate 10] [--duration 60s] [--api chat|responses|messages] [--quiet]
import { parseArgs } from 'node:util';

const USAGE = 'usage: node rollouts/demo-app.mjs [--base-url URL] [--rate 10] [--duration 60s] [--api chat|responses|messages] [--quiet]';
/** The options, or exit 2 with what was wrong and the usage (parseArgs throws on an unknown option or a missing value). */
function options() {
  try {
    return parseArgs({
      options: {
        'base-url': { type: 'string' },
        rate: { type: 'string', default: '10' },
        duration: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        api: { type: 'string', default: 'chat' },
      },
    }).values;
  } catch (error) {
    console.error(`demo-app: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    process.exit(2);
  }
}
const values = options();
if (!['chat', 'responses', 'messages'].includes(values.api)) {
  console.error('demo-app: --api must be chat, responses or messages');
  process.exit(2);
}
// Each demo plan's proxy: demo-live.yaml (OpenAI) or demo-live-anthropic.yaml (Anthropic: the SDK adds /v1/messages).
const baseUrl = values['base-url'] ?? (values.api === 'messages' ? 'http://127.0.0.1:8797' : 'http://127.0.0.1:8787/v1');
const rate = Number(values.rate);
if (!(rate > 0 && rate <= 1000)) {
  console.error(`demo-app: --rate must be a number of requests per second above 0 and at most 1000, not ${values.rate}`);
  process.exit(2);
}
const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
/** `90s`, `1m30s`, `500ms`, `2h`: milliseconds, or undefined for anything else. */
function parseDuration(text) {
  if (!/^(\d+(\.\d+)?(h|ms|m|s))+$/.test(text)) return undefined;
  let ms = 0;
  for (const [, amount, , unit] of text.matchAll(/(\d+(\.\d+)?)(h|ms|m|s)/g)) ms += Number(amount) * UNIT_MS[unit];
  return ms;
}
const durationMs = values.duration === undefined ? undefined : parseDuration(values.duration);
if (values.duration !== undefined && !(durationMs > 0)) {
  console.error(`demo-app: --duration must be like 60s, 1m30s or 500ms, not ${values.duration}`);
  process.exit(2);
}

// On loopback without proxy.client_keys_env the proxy takes any key; otherwise use one of the client keys.
const clientOptions = { baseURL: baseUrl, apiKey: process.env.BLUEGREEN_CLIENT_KEY ?? 'demo-app', maxRetries: 0, timeout: 15_000 };
// Only the SDK the --api uses, and only once the options are read: each takes a few hundred ms of CPU to load, and a
// mistyped option is told at once.
const openai = values.api === 'messages' ? undefined : new (await import('openai')).default(clientOptions);
const anthropic = values.api === 'messages' ? new (await import('@anthropic-ai/sdk')).default(clientOptions) : undefined;
const tally = { requests: 0, blue: 0, green: 0, fallbacks: 0, failed: 0 };
let inFlight = 0;
let sent = 0;
// Responses API: each user's last response, which its next request continues.
const lastResponse = new Map();

/** One request as the chosen API sends it: the answer's model, and the arm headers. */
async function ask(n) {
  const user = `user-${n % 200}`;
  const content = `Customer ${n}: where is my order?`;
  if (values.api === 'chat') return openai.chat.completions.create({ model: 'gpt-4o', user, messages: [{ role: 'user', content }] }).withResponse();
  if (values.api === 'messages')
    return anthropic.messages
      .create({ model: 'claude-haiku-4-5', max_tokens: 256, metadata: { user_id: user }, messages: [{ role: 'user', content }] })
      .withResponse();
  const previous = lastResponse.get(user);
  const answer = await openai.responses
    .create({ model: 'gpt-4o', safety_identifier: user, input: content, ...(previous && { previous_response_id: previous }) })
    .withResponse();
  lastResponse.set(user, answer.data.id);
  return answer;
}

async function one(n) {
  inFlight++;
  try {
    const { data, response } = await ask(n);
    const arm = response.headers.get('x-bluegreen-arm') ?? 'unknown';
    const fallback = response.headers.get('x-bluegreen-fallback') === 'true';
    tally.requests++;
    if (arm === 'blue' || arm === 'green') tally[arm]++;
    if (fallback) tally.fallbacks++;
    if (!values.quiet) console.log(`#${n} ${arm}${fallback ? ' (fallback: green failed, blue answered)' : ''} ${data.model}`);
  } catch (error) {
    tally.requests++;
    tally.failed++;
    console.log(`#${n} FAILED: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    inFlight--;
  }
}

function summary() {
  const { requests, blue, green, fallbacks, failed } = tally;
  return `demo-app: ${requests} requests: ${blue} blue, ${green} green, ${fallbacks} fallbacks, ${failed} failed`;
}

// Started beside the proxy, the application waits (up to 60 s) for it to answer before sending any traffic.
const healthz = new URL('/healthz', baseUrl);
for (let waited = 0; ; waited += 250) {
  const up = await fetch(healthz).then(
    (response) => response.ok,
    () => false,
  );
  if (up) break;
  if (waited === 0) console.error(`demo-app: waiting for the proxy at ${healthz.origin} ...`);
  if (waited >= 60_000) {
    const plan = values.api === 'messages' ? 'demo-live-anthropic.yaml --state-dir .bluegreen-anthropic' : 'demo-live.yaml';
    console.error(`demo-app: no proxy answered at ${healthz.origin} within 60 s; start it with npx bluegreen proxy rollouts/${plan}`);
    process.exit(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 250));
}
const started = Date.now();

// Open model: one request every 1/rate s, whatever the answers do (as users would).
const timer = setInterval(() => {
  if (durationMs !== undefined && Date.now() - started >= durationMs) return finish();
  void one(sent++);
}, 1000 / rate);
const report = setInterval(() => console.error(summary()), 5000);

let finishing = false;
async function finish() {
  if (finishing) return;
  finishing = true;
  clearInterval(timer);
  clearInterval(report);
  while (inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  console.error(summary());
  process.exit(tally.failed > 0 ? 1 : 0);
}
process.on('SIGINT', finish);
process.on('SIGTERM', finish);
