// How long a replacement proxy's first read of a large handover holds its event loop: a stopped proxy's file of
// UNREAD results, read by a fresh HandoverReader in slices of READ_BYTES (its default: HANDOVER_READ_BYTES); the CPU
// of the longest slice (one poll, or one turn of the event loop that goes on reading) and the wall time until all
// are adopted. CPU time, not wall time: a loaded machine deschedules the process mid-slice.
//   node bench/tools/handover-read.js [UNREAD=100000] [READ_BYTES=0 (the default)]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { positionalArgs } from '../lib/args.js';
import { HANDOVER_READ_BYTES, HandoverReader, HandoverWriter } from '../../dist/proxy/handover.js';
import { DEFAULT_FEED_CAPACITY, ResultsFeed } from '../../dist/proxy/results-feed.js';

const { unread, readBytes } = positionalArgs({ unread: 100_000, readBytes: 0 });
/** @param {number} n */
const result = (n) => ({
  arm: /** @type {const} */ ('green'),
  model: 'm',
  ok: n % 3 !== 0,
  content: '',
  latencyMs: 100 + (n % 900),
  attempts: 1,
  stream: false,
});
const stateDir = mkdtempSync(path.join(tmpdir(), 'handover-read-'));
const feed = new ResultsFeed(DEFAULT_FEED_CAPACITY, { controller: () => 'run-1' });
for (let n = 1; n <= unread; n++) feed.push(result(n), 'routed', { ok: true }, 1);
// A live pid that is not this process: the writer is still draining.
const writer = new HandoverWriter({ stateDir, feed, controller: 'run-1', pid: process.ppid });
await writer.flush();
const next = new ResultsFeed(DEFAULT_FEED_CAPACITY, { controller: () => 'run-1' });
const reader = new HandoverReader(stateDir, next, undefined, readBytes || HANDOVER_READ_BYTES);
const poll = reader.poll.bind(reader);
let longest = 0;
let slices = 0;
reader.poll = () => {
  const before = process.cpuUsage();
  poll();
  const used = process.cpuUsage(before);
  slices++;
  longest = Math.max(longest, (used.user + used.system) / 1000);
};
const start = performance.now();
reader.poll();
while (next.cursor < unread) await new Promise((resolve) => setImmediate(resolve));
const allAdoptedMs = Math.round(performance.now() - start);
process.stdout.write(
  `${JSON.stringify({ unread, readBytes: readBytes || HANDOVER_READ_BYTES, slices, longestSliceCpuMs: Math.round(longest * 10) / 10, allAdoptedMs })}\n`,
);
await writer.finish();
rmSync(stateDir, { recursive: true, force: true });
