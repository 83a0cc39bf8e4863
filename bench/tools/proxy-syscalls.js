// System calls a request of the bare pass-through and the proxy (and PROXY_BASE_BIN's build), counted by `strace -c
// -f` attached to each process while the same open-model load runs through it: counts, not times (strace slows the
// traced process; the rate is kept low enough that it keeps up). `polls` are the event loop's epoll_pwait calls
// with a zero timeout: turns that had work queued already (an immediate) and did not wait. How many calls the
// loop makes in all moves with the load (a loaded process finds several events at each wait); reads and writes
// do not.
//   node bench/tools/proxy-syscalls.js [RATE=300] [SECONDS=4] [MODE=plain|stream] [ROUNDS=1]   (PROXY_CONNECTIONS: the client's sockets, bench/lib/proxies.js)
// Needs strace (apt-get install strace) and ptrace allowed on the bench's own children.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createLoadClient } from '../lib/open-load.js';
import { benchChatBody, forkBare, spawnProxy, toolConnections } from '../lib/proxies.js';
import { startUpstream } from '../lib/upstream.js';
import { round } from '../lib/util.js';
import { positionalArgs } from '../lib/args.js';

const { rate, seconds, mode, rounds } = positionalArgs({ rate: 300, seconds: 4, mode: ['plain', 'stream'], rounds: 1 });
const upstream = await startUpstream({ delayMs: 0 });
const targets = { bare: await forkBare(`http://127.0.0.1:${upstream.port}`), proxy: await spawnProxy(upstream.baseUrl) };
if (process.env.PROXY_BASE_BIN) targets.base = await spawnProxy(upstream.baseUrl, [], process.env.PROXY_BASE_BIN);
const body = benchChatBody(mode);
const clients = Object.fromEntries(Object.entries(targets).map(([name, t]) => [name, createLoadClient(t.origin, { connections: toolConnections() })]));
for (const client of Object.values(clients)) await client.run({ path: '/v1/chat/completions', body, rate, seconds: 2 });

/** strace attached to `pid` (all its threads) until stopped; resolves with its summary table's calls by name. */
function traced(pid, file) {
  rmSync(file, { force: true });
  const strace = spawn('strace', ['-C', '-f', '-o', file, '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  strace.stderr.on('data', (chunk) => (err += chunk));
  // strace says nothing once attached: give it a moment (its attach is not a request's work in any case).
  const attached = new Promise((resolve) => setTimeout(resolve, 500));
  const stop = () =>
    new Promise((resolve, reject) => {
      strace.once('exit', () => {
        try {
          resolve(parseSummary(readFileSync(file, 'utf8')));
        } catch (error) {
          reject(new Error(`strace gave no summary: ${err.trim()} (${error})`));
        }
      });
      strace.kill('SIGINT');
    });
  return { attached, stop };
}

// An epoll_pwait's timeout, the argument after the events (printed on its line, or on its `resumed` line).
const POLL_TIMEOUT = /epoll_pwait.*?(?:\]|0x[0-9a-f]+), \d+, (-?\d+), /;

/** `strace -C`'s calls, then its table: "% time seconds usecs/call calls errors syscall" rows. */
function parseSummary(text) {
  /** @type {Record<string, number>} */
  const calls = { 'polls (timeout 0)': 0 };
  let table = false;
  for (const line of text.split('\n')) {
    const poll = table ? null : POLL_TIMEOUT.exec(line);
    if (poll && poll[1] === '0') calls['polls (timeout 0)']++;
    if (line.startsWith('% time')) table = true;
    if (!table) continue;
    const cells = line.trim().split(/\s+/);
    const name = cells[cells.length - 1];
    if (cells.length < 5 || !/^\d+$/.test(cells[3] ?? '') || name === 'total') continue;
    calls[name] = Number(cells[3]);
  }
  return calls;
}

const rows = [];
for (let r = 0; r < rounds; r++) {
  for (const [name, target] of Object.entries(targets)) {
    const trace = traced(target.pid, `/tmp/syscalls-${target.pid}.txt`);
    await trace.attached;
    const result = await clients[name].run({ path: '/v1/chat/completions', body, rate, seconds });
    const calls = await trace.stop();
    const per = Object.fromEntries(
      Object.entries(calls)
        .sort((a, b) => b[1] - a[1])
        .map(([call, n]) => [call, round(n / result.completed, 2)]),
    );
    const total = round(Object.entries(calls).reduce((sum, [call, n]) => (call.startsWith('polls') ? sum : sum + n), 0) / result.completed, 2);
    rows.push({ round: r + 1, name, completed: result.completed, errors: result.errors, total, per });
  }
}
for (const row of rows) {
  const { per, ...rest } = row;
  const shown = Object.entries(per)
    .filter(([, n]) => n >= 0.01)
    .map(([call, n]) => `${call} ${n}`)
    .join(', ');
  process.stdout.write(`${JSON.stringify(rest)}\n  a request: ${shown}\n`);
}
for (const target of Object.values(targets)) await target.close();
for (const client of Object.values(clients)) await client.close();
await upstream.close();
