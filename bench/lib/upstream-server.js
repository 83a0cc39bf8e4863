// A tiny OpenAI-compatible upstream for the benchmarks: answers POST /v1/chat/completions with one fixed
// chat completion (after BENCH_DELAY_MS, 0 by default), or with a fixed SSE stream (bench/lib/bench-stream.js,
// written at once) when the body asks for stream: true, and GET /v1/models with the two bench models.
// Run as a child process (fork) so its CPU is not the load generator's; it reports its port over IPC.
import http from 'node:http';
import { openAiStreamBody as streamBody } from './bench-stream.js';

const delayMs = Number(process.env.BENCH_DELAY_MS ?? 0);
// BENCH_FIRST_EVENT_APART_MS: the stream's first event is sent with its headers and the rest that many ms later,
// so a proxy reads the first chunk on its own (bench/tools/first-write.js); unset, the stream goes in one write.
const firstApartMs = process.env.BENCH_FIRST_EVENT_APART_MS === undefined ? undefined : Number(process.env.BENCH_FIRST_EVENT_APART_MS);
const firstEventEnd = streamBody.indexOf('\n\n') + 2;
const models = (process.env.BENCH_MODELS ?? 'bench-blue,bench-green').split(',');

const completion = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench0000000000000000000000',
    object: 'chat.completion',
    created: 1767225600,
    model: 'bench-model',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: 'Thanks for reaching out. You can reset your password from the account page; the link arrives by email within a minute.',
        },
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 24, completion_tokens: 28, total_tokens: 52 },
  }),
);
const modelList = Buffer.from(JSON.stringify({ object: 'list', data: models.map((id) => ({ id, object: 'model', owned_by: 'bench' })) }));
const notFound = Buffer.from(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error', param: null, code: null } }));

let completions = 0;

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}

const server = http.createServer((req, res) => {
  // Read the whole body (as a real upstream must) before answering.
  let streamed = false;
  req.on('data', (data) => {
    if (!streamed && data.includes('"stream":true')) streamed = true;
  });
  req.on('end', () => {
    const url = req.url ?? '';
    if (req.method === 'POST' && url.endsWith('/chat/completions')) {
      completions++;
      if (streamed) {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        if (firstApartMs === undefined) res.end(streamBody);
        else {
          res.write(streamBody.subarray(0, firstEventEnd));
          setTimeout(() => res.end(streamBody.subarray(firstEventEnd)), firstApartMs);
        }
      } else if (delayMs > 0) setTimeout(() => send(res, 200, completion), delayMs);
      else send(res, 200, completion);
    } else if (req.method === 'GET' && url.split('?')[0].endsWith('/models')) {
      send(res, 200, modelList);
    } else {
      send(res, 404, notFound);
    }
  });
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 130_000;
server.requestTimeout = 0;
server.maxRequestsPerSocket = 0;

// The listen queue `bluegreen proxy` has (src/proxy/listen.ts), not Node's 511: the client's bursts of new sockets to
// the direct path would otherwise be dropped here and wait a SYN retransmit (1 s), and the comparison would be unfair.
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  if (process.send) process.send({ type: 'listening', port });
  else process.stdout.write(`${JSON.stringify({ port })}\n`);
});

process.on('message', (/** @type {{ type?: string } | undefined} */ message) => {
  if (message?.type === 'stats') {
    const cpu = process.cpuUsage();
    process.send?.({ type: 'stats', completions, cpuMs: (cpu.user + cpu.system) / 1000 });
  } else if (message?.type === 'close') {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  }
});
// Never outlive the benchmark that started us.
process.on('disconnect', () => process.exit(0));
