// The proxy's listen queue holds a burst of new connections while its event loop is busy (src/proxy/listen.ts):
// with Node's default of 511 the 513th connection of a burst finds the queue full, and the kernel drops its SYN,
// which the client then retransmits a second later (three, then seven).
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { LISTEN_BACKLOG } from '../../src/proxy/listen.js';
import { runProxy, simPlan } from './helpers.js';

/** More than Node's default queue holds (511 + 1). */
const BURST = 600;

/** The kernel's cap on any listen queue (null off Linux): the test needs room for the burst. */
function somaxconn(): number | null {
  try {
    return Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
  } catch {
    return null;
  }
}

// Runs in a worker thread while the test's own thread (the proxy's event loop) is held: opens BURST connections to
// the port and counts the handshakes that complete, which the kernel does alone, into the listen queue. Done when all
// have, or when WAIT_MS has passed (only a queue too short gets there: the rest wait for SYN retransmits).
const CONNECTOR = `
const { workerData } = require('node:worker_threads');
const net = require('node:net');
const { port, burst, waitMs, shared } = workerData;
const state = new Int32Array(shared);
let connected = 0;
const finish = () => { Atomics.store(state, 0, connected); Atomics.store(state, 1, 1); Atomics.notify(state, 1); };
const giveUp = setTimeout(finish, waitMs);
for (let i = 0; i < burst; i++) {
  const socket = net.connect(port, '127.0.0.1', () => { if (++connected === burst) { clearTimeout(giveUp); finish(); } });
  socket.on('error', () => {});
}
`;

describe("the proxy's listen queue", () => {
  const cap = somaxconn();
  it.skipIf(cap === null || cap <= BURST)(`takes a burst of ${BURST} new connections while the event loop is held`, async () => {
    expect(LISTEN_BACKLOG).toBeGreaterThan(BURST);
    const running = await runProxy(simPlan());
    const shared = new SharedArrayBuffer(8);
    const state = new Int32Array(shared);
    const worker = new Worker(CONNECTOR, { eval: true, workerData: { port: running.proxy.port, burst: BURST, waitMs: 10_000, shared } });
    try {
      // Hold this thread (the proxy's loop accepts nothing meanwhile) until the worker is done (bounded, should the
      // worker never get to say so).
      const giveUpAt = Date.now() + 20_000;
      while (Atomics.load(state, 1) === 0 && Date.now() < giveUpAt) Atomics.wait(state, 1, 0, 1000);
      expect(Atomics.load(state, 1), 'the worker finished').toBe(1);
      expect(Atomics.load(state, 0)).toBe(BURST);
    } finally {
      await worker.terminate();
    }
  });
});
