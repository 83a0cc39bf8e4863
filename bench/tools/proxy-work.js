// Work a request costs the bare pass-through and the proxy (and PROXY_BASE_BIN's build), counted rather than
// timed, so a loaded machine does not change the figures much: bytes allocated (exact, from the heap around each
// GC), async resources created by type (timers, ticks, promises), listeners added and socket writes, a request.
// Each process counts its own (bench/lib/work-count.js) over one run of the same open-model load.
//   node bench/tools/proxy-work.js [RATE=2000] [SECONDS=5] [MODE=plain|stream] [ROUNDS=1]   (PROXY_CONNECTIONS: the client's sockets, bench/lib/proxies.js)
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createLoadClient } from '../lib/open-load.js';
import { benchChatBody, startMeasured, toolConnections } from '../lib/proxies.js';
import { round } from '../lib/util.js';
import { positionalArgs } from '../lib/args.js';
import { signalProbe } from '../lib/probe-signal.js';

const { rate, seconds, mode, rounds } = positionalArgs({ rate: 2000, seconds: 5, mode: ['plain', 'stream'], rounds: 1 });
const { upstream, targets } = await startMeasured('work-count.js');
const body = benchChatBody(mode);
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));
const clients = Object.fromEntries(Object.entries(targets).map(([name, t]) => [name, createLoadClient(t.origin, { connections: toolConnections() })]));
for (const [name, client] of Object.entries(clients)) await client.run({ path: '/v1/chat/completions', body, rate, seconds: 2 }).then(() => name);

const rows = [];
for (let r = 0; r < rounds; r++) {
  for (const [name, target] of Object.entries(targets)) {
    const file = `/tmp/work-${target.pid}.json`;
    rmSync(file, { force: true });
    signalProbe(target.pid, 'work-count');
    await settle();
    const result = await clients[name].run({ path: '/v1/chat/completions', body, rate, seconds });
    // Counted until the client's last answer is in (or given up on).
    signalProbe(target.pid, 'work-count');
    while (!existsSync(file)) await settle();
    const counts = JSON.parse(readFileSync(file, 'utf8'));
    // Divided by the requests the process took while counting (a loaded machine's client completes fewer).
    const served = counts.requests;
    const per = (n) => round(n / served, 2);
    const types = Object.fromEntries(Object.entries(counts.types).map(([type, n]) => [type, per(n)]));
    rows.push({
      round: r + 1,
      name,
      served,
      completed: result.completed,
      bytes: Math.round(counts.allocated / served),
      listeners: per(counts.listeners),
      writes: per(counts.writes),
      writtenBytes: Math.round(counts.writtenBytes / served),
      types,
    });
  }
}
for (const row of rows) {
  const { types, ...rest } = row;
  process.stdout.write(
    `${JSON.stringify(rest)}\n  ${Object.entries(types)
      .map(([t, n]) => `${t} ${n}`)
      .join(', ')}\n`,
  );
}
await Promise.all(Object.values(clients).map((c) => c.close()));
await Promise.all(Object.values(targets).map((t) => t.close()));
await upstream.close();
