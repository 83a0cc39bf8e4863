// Where the proxy's extra CPU a request goes: the bare pass-through and the proxy (and PROXY_BASE_BIN's build) each
// CPU-profiled over ROUNDS runs of the same open-model load (bench/lib/cpu-sample.js), in rounds whose order rotates
// as bench/tools/proxy-cpu.js's do (so no path always meets the same moment of the machine), and their self time
// summed over the rounds and divided by the requests each server took meanwhile, side by side by file (ours,
// undici's, Node's), largest difference first, then the proxy's own functions. Idle time and the profiler's own stop
// are left out. On a loaded machine the times are inflated alike (the process is descheduled mid-function), so read
// the shares and differences, not the absolute microseconds.
//   PROXY_CONNECTIONS=256 node bench/tools/proxy-profile.js [RATE=2000] [SECONDS=6] [MODE=plain|stream] [TOP=30] [ROUNDS=3]
//   (PROXY_BASE_BIN=/path/to/bin/bluegreen.js: that build's proxy too, its own functions beside this one's)
// By kind (ours, undici, Node, socket writes, GC), then by file, then the proxy's own functions.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createLoadClient } from '../lib/open-load.js';
import { benchChatBody, startMeasured, toolConnections } from '../lib/proxies.js';
import { positionalArgs } from '../lib/args.js';
import { signalProbe } from '../lib/probe-signal.js';

const { rate, seconds, mode, top, rounds } = positionalArgs({ rate: 2000, seconds: 6, mode: ['plain', 'stream'], top: 30, rounds: 3 });
const { upstream, targets } = await startMeasured('cpu-sample.js');
const body = benchChatBody(mode);
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

/** The profiler's own stop (node:inspector's post and what runs under it), to be left out of a profile. */
function profilerNodes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const own = new Set();
  const mark = (id) => {
    own.add(id);
    for (const child of byId.get(id).children ?? []) mark(child);
  };
  for (const node of profile.nodes) if (node.callFrame.url === 'node:inspector' && !own.has(node.id)) mark(node.id);
  return own;
}

/** Self time (us) by file and by function of a profile, idle and the profiler's own stop left out. */
function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const byNode = new Map();
  profile.samples.forEach((id, i) => byNode.set(id, (byNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const profiler = profilerNodes(profile);
  const files = new Map();
  const fns = new Map();
  for (const [id, us] of byNode) {
    const { callFrame } = byId.get(id);
    if (callFrame.functionName === '(idle)' || profiler.has(id)) continue;
    const where = callFrame.url
      .replace(/^file:\/\//, '')
      .replace(/.*\/node_modules\//, 'node_modules/')
      .replace(/.*\/(dist|bench)\//, '$1/');
    // V8's own nodes are already parenthesised: "(garbage collector)", "(program)".
    const name = callFrame.functionName || 'native';
    const file = where ? where.replace(/^(node_modules\/[^/]+).*/, '$1') : name.startsWith('(') ? name : `(${name})`;
    files.set(file, (files.get(file) ?? 0) + us);
    const fn = `${callFrame.functionName || '(anonymous)'} ${where || '(native)'}:${callFrame.lineNumber + 1}`;
    fns.set(fn, (fns.get(fn) ?? 0) + us);
  }
  return { files, fns };
}

/**
 * The kind of work a file's self time is (cpu22's split, the GC its own row): ours, undici's, Node's JavaScript, the
 * native socket writes, the garbage collector, the rest native.
 */
function kindOf(/** @type {string} */ file) {
  if (file.startsWith('dist/') || file.startsWith('bench/')) return 'our JavaScript (dist/; the bench script for bare)';
  if (file.startsWith('node_modules/undici') || file.startsWith('wasm://')) return 'undici (JS and llhttp)';
  if (file.startsWith('node_modules/')) return 'other packages';
  if (file.startsWith('node:')) return "Node's JavaScript (streams, http, timers)";
  if (file === '(garbage collector)') return 'garbage collector';
  if (/^\((writev|writeBuffer|write\w*String)\)$/.test(file)) return 'socket writes (native)';
  return '(program), other native';
}

/** Adds one round's self times into `into`. */
function addTimes(into, map) {
  for (const [k, us] of map) into.set(k, (into.get(k) ?? 0) + us);
}

const names = Object.keys(targets);
const clients = Object.fromEntries(names.map((name) => [name, createLoadClient(targets[name].origin, { connections: toolConnections() })]));
const sums = Object.fromEntries(names.map((name) => [name, { requests: 0, files: new Map(), fns: new Map() }]));
// Warm-up: each path once, unprofiled.
for (const name of names) await clients[name].run({ path: '/v1/chat/completions', body, rate, seconds: 2 });
for (let i = 0; i < rounds; i++) {
  // Rotated, so no path is always the one that follows another's run (or the machine's quiet start).
  for (let k = 0; k < names.length; k++) {
    const name = names[(k + i) % names.length];
    const target = targets[name];
    const file = `/tmp/cpu-${target.pid}.cpuprofile`;
    rmSync(file, { force: true });
    signalProbe(target.pid, 'cpu-sample');
    await settle();
    await clients[name].run({ path: '/v1/chat/completions', body, rate, seconds });
    signalProbe(target.pid, 'cpu-sample');
    while (!existsSync(file)) await settle();
    const profile = JSON.parse(readFileSync(file, 'utf8'));
    const { files, fns } = selfTimes(profile);
    sums[name].requests += profile.requests;
    addTimes(sums[name].files, files);
    addTimes(sums[name].fns, fns);
    process.stderr.write(`round ${i + 1} ${name}: ${profile.requests} requests\n`);
  }
}
for (const client of Object.values(clients)) await client.close();
const per = {};
for (const [name, sum] of Object.entries(sums)) {
  const scale = (map) => new Map([...map].map(([k, us]) => [k, us / sum.requests]));
  per[name] = { requests: sum.requests, files: scale(sum.files), fns: scale(sum.fns) };
}
await Promise.all(Object.values(targets).map((t) => t.close()));
await upstream.close();

const fmt = (us) => (us === undefined ? '-' : us.toFixed(1)).padStart(8);
const total = (map) => [...map.values()].reduce((a, b) => a + b, 0);
process.stdout.write(`${mode}, ${rate} req/s, ${rounds} rounds of ${seconds} s; us of CPU (self time, idle left out) a request\n`);
process.stdout.write(`${names.map((n) => `${n} ${per[n].requests} requests`).join(', ')}\n`);
process.stdout.write(`${names.map((n) => n.padStart(8)).join('')}  total\n${names.map((n) => fmt(total(per[n].files))).join('')}\n`);
const byKind = (/** @type {Map<string, number>} */ files) => {
  const kinds = new Map();
  for (const [file, us] of files) kinds.set(kindOf(file), (kinds.get(kindOf(file)) ?? 0) + us);
  return kinds;
};
const kinds = Object.fromEntries(names.map((n) => [n, byKind(per[n].files)]));
const kindRows = [...new Set(names.flatMap((n) => [...kinds[n].keys()]))].map((k) => ({ k, v: names.map((n) => kinds[n].get(k)) }));
kindRows.sort((a, b) => (b.v[1] ?? 0) - (b.v[0] ?? 0) - ((a.v[1] ?? 0) - (a.v[0] ?? 0)));
process.stdout.write(`\nby kind, largest difference (proxy - bare) first\n`);
for (const { k, v } of kindRows) process.stdout.write(`${v.map(fmt).join('')}  ${k}\n`);
const keys = new Set(names.flatMap((n) => [...per[n].files.keys()]));
const rows = [...keys].map((k) => ({ k, v: names.map((n) => per[n].files.get(k)) }));
rows.sort((a, b) => Math.abs((b.v[1] ?? 0) - (b.v[0] ?? 0)) - Math.abs((a.v[1] ?? 0) - (a.v[0] ?? 0)));
process.stdout.write(`\nby file, largest difference (proxy - bare) first\n`);
for (const { k, v } of rows.slice(0, top)) process.stdout.write(`${v.map(fmt).join('')}  ${k}\n`);
// With PROXY_BASE_BIN, the base build's figure of each function beside this one's (its own column after it).
const builds = names.filter((n) => n !== 'bare');
const ownOf = (name) => new Map([...per[name].fns].filter(([k]) => / dist\//.test(k)));
const own = Object.fromEntries(builds.map((n) => [n, ownOf(n)]));
const ours = [...own.proxy].sort((a, b) => b[1] - a[1]);
process.stdout.write(`\nthe proxy's own functions (dist/), ${builds.map((n) => `${n} ${total(own[n]).toFixed(1)}`).join(', ')} us a request\n`);
for (const [k] of ours.slice(0, top)) process.stdout.write(`${builds.map((n) => fmt(own[n].get(k))).join('')}  ${k}\n`);
if (own.base) {
  const gone = [...own.base].filter(([k]) => !own.proxy.has(k)).sort((a, b) => b[1] - a[1]);
  process.stdout.write(`\nthe base build's own functions this build has not (or not so named)\n`);
  for (const [k, us] of gone.slice(0, top)) process.stdout.write(`${fmt(undefined)}${fmt(us)}  ${k}\n`);
}
