// A rollout suspended (SIGSTOP, a laptop lid, a paused VM) while an admin call waits: the proxy's answer is in the
// socket when the process wakes, but the call's timer is past due too, and timers run before the socket is read.
// The call must take the answer that arrived in time, not fail (a failed call can roll a healthy rollout back).
import { Worker } from 'node:worker_threads';
import { afterEach, expect, it } from 'vitest';
import { AdminClient } from '../../src/live/admin-client.js';
import { until } from '../helpers/until.js';

// Flags shared with the server's thread: [request seen, caller blocked, answer written, port, never set].
const SEEN = 0;
const BLOCKED = 1;
const WRITTEN = 2;
const PORT = 3;
const NEVER = 4;

// The server runs on its own thread, so it answers while the test's thread is blocked (as if suspended).
const SERVER = `
const { createServer } = require('node:http');
const { workerData } = require('node:worker_threads');
const flags = new Int32Array(workerData);
const server = createServer((req, res) => {
  req.resume();
  Atomics.store(flags, ${SEEN}, 1);
  Atomics.wait(flags, ${BLOCKED}, 0);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ route: null, effective: { greenWeight: 0 } }), () => {
    Atomics.store(flags, ${WRITTEN}, 1);
    Atomics.notify(flags, ${WRITTEN});
  });
});
server.listen(0, '127.0.0.1', () => Atomics.store(flags, ${PORT}, server.address().port));
`;

let worker: Worker | undefined;
afterEach(async () => {
  await worker?.terminate();
  worker = undefined;
});

it('an admin call whose answer arrived while the process was suspended past its timeout takes the answer', async () => {
  const flags = new Int32Array(new SharedArrayBuffer(5 * Int32Array.BYTES_PER_ELEMENT));
  worker = new Worker(SERVER, { eval: true, workerData: flags.buffer });
  await until(() => Atomics.load(flags, PORT) !== 0, 'the server listening');
  // Long enough that this thread reaches its block (below) before the call's time runs out however busy the machine:
  // at 300 ms, at load 20-30, the timer could run out while this thread still waited to see the request arrive, and the
  // call failed as it should for an answer that was not there in time, which is not what this test is about.
  const timeoutMs = 2_000;
  const client = new AdminClient({ url: `http://127.0.0.1:${Atomics.load(flags, PORT)}`, token: 't', timeoutMs });
  const call = client.getRoute();
  const sentAt = Date.now();
  await until(() => Atomics.load(flags, SEEN) === 1, 'the request at the server');
  // Suspended from here: the server answers, then the call's time runs out, with this thread never running. Blocked
  // in a setImmediate callback, the loop next runs its timers, then reads sockets: as it does when a stopped
  // process's poll comes back interrupted (EINTR) at SIGCONT with its timeout spent.
  await new Promise<void>((resolve) =>
    setImmediate(() => {
      Atomics.store(flags, BLOCKED, 1);
      Atomics.notify(flags, BLOCKED);
      Atomics.wait(flags, WRITTEN, 0);
      // Blocked on purpose: the process is "stopped" until past the call's timeout (a wait on a flag nobody sets, so
      // the thread sleeps instead of spinning a core).
      for (let left = sentAt + timeoutMs * 2 - Date.now(); left > 0; left = sentAt + timeoutMs * 2 - Date.now()) Atomics.wait(flags, NEVER, 0, left);
      resolve();
    }),
  );
  const answer = await call;
  expect(answer.effective.greenWeight).toBe(0);
  await client.close();
});
