// Bytes allocated a request, and by which functions, in the bare pass-through and the proxy (and PROXY_BASE_BIN's
// build), under the same open-model load: each process samples its heap (bench/lib/heap-sample.js) over one run.
//   node bench/tools/proxy-alloc.js [RATE=3000] [SECONDS=5] [MODE=plain|stream] [TOP=25]   (PROXY_CONNECTIONS: the client's sockets, bench/lib/proxies.js)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createLoadClient } from '../lib/open-load.js';
import { benchChatBody, startMeasured, toolConnections } from '../lib/proxies.js';
import { positionalArgs } from '../lib/args.js';
import { signalProbe } from '../lib/probe-signal.js';

const { rate, seconds, mode, top } = positionalArgs({ rate: 3000, seconds: 5, mode: ['plain', 'stream'], top: 25 });
const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { upstream, targets } = await startMeasured('heap-sample.js');
const body = benchChatBody(mode);
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));
for (const [name, target] of Object.entries(targets)) {
  const client = createLoadClient(target.origin, { connections: toolConnections() });
  await client.run({ path: '/v1/chat/completions', body, rate, seconds: 2 });
  signalProbe(target.pid, 'heap-sample');
  await settle();
  const result = await client.run({ path: '/v1/chat/completions', body, rate, seconds });
  signalProbe(target.pid, 'heap-sample');
  await client.close();
  const file = `/tmp/heap-${target.pid}.heapprofile`;
  // Written once sampling stops (seconds on a busy machine).
  while (!existsSync(file)) await settle();
  process.stdout.write(`\n=== ${name} (${mode}): ${result.completed} requests\n`);
  process.stdout.write(
    execFileSync(process.execPath, [path.join(ROOT, 'bench/lib/heap-summary.js'), file, String(top), String(result.completed)], { encoding: 'utf8' }),
  );
}
await Promise.all(Object.values(targets).map((t) => t.close()));
await upstream.close();
