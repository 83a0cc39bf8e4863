// The floor for a Node proxy: a minimal undici pass-through written for the proxy benchmark. It reads the
// request body, forwards it to one upstream over a keep-alive Pool with dispatch(), and writes the answer back
// chunk by chunk as it arrives. No parsing, no routing, no metrics, no limits.
//   node bench/lib/bare-proxy.js UPSTREAM_ORIGIN   (reports its port over IPC, or on stdout)
import http from 'node:http';
import { Pool } from 'undici';

const origin = process.argv[2];
const pool = new Pool(origin, { connections: 256 });
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

const server = http.createServer({ noDelay: true, keepAliveTimeout: 65_000 }, (req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const headers = { 'content-type': 'application/json', authorization: 'Bearer bench' };
    pool.dispatch(
      { method: /** @type {import('undici').Dispatcher.HttpMethod} */ (req.method), path: req.url ?? '/', headers, body: Buffer.concat(chunks) },
      {
        onRequestStart() {},
        onResponseStart(controller, status, upstreamHeaders) {
          /** @type {import('node:http').OutgoingHttpHeaders} */
          const out = {};
          for (const name in upstreamHeaders) if (!HOP.has(name)) out[name] = upstreamHeaders[name];
          res.writeHead(status, out);
        },
        onResponseData(controller, chunk) {
          res.write(chunk);
        },
        onResponseEnd() {
          res.end();
        },
        onResponseError() {
          res.destroy();
        },
      },
    );
  });
});
// The listen queue `bluegreen proxy` has (src/proxy/listen.ts), not Node's 511, so a burst of the client's new
// sockets costs both paths alike.
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  if (process.send) process.send({ type: 'listening', port });
  else process.stdout.write(`${JSON.stringify({ port })}\n`);
});
process.on('disconnect', () => process.exit(0));
// Exit (not die) on SIGTERM, so a --cpu-prof profile is written.
process.on('SIGTERM', () => process.exit(0));
