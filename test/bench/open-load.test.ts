// The benchmarks' open-model client (bench/lib/open-load.js) counts the requests it sends late, and how late: a client
// whose own loop is held offers less than its rate meanwhile (coordinated omission), which the sustained rule bounds;
// each request is also timed from when it was due, and none waits in the client for a socket. Real servers on
// 127.0.0.1; the client's loop is held on purpose, so the lateness is at least that hold, whatever else the machine
// does, and the other server answers only once every request is at it, whenever that is.
import { createServer, type ServerResponse } from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';
import { closeAfterTest } from '../helpers/close-after-test.js';
import { closeServer, listenForTest } from '../helpers/loopback.js';
import type { LoadResult } from './load-result.js';

interface LoadClient {
  run(options: {
    path: string;
    body: unknown;
    rate: number;
    seconds: number;
    drainMs?: number;
  }): Promise<LoadResult & { fromScheduleMs: { max: number }; peakInFlight: number; queuedInClient: number }>;
  close(): Promise<void>;
}

// Plain JavaScript without declarations (bench/ is type-checked on its own, against dist/).
const OPEN_LOAD = pathToFileURL(path.resolve(import.meta.dirname, '../../bench/lib/open-load.js')).href;
const { createLoadClient } = (await import(OPEN_LOAD)) as { createLoadClient: (origin: string) => LoadClient };
// A run ends once every request has its answer; its bound on that wait (5 s for the benchmarks) only catches a hang
// here: at load 30 the answers to a second's requests can take longer than 5 s, and a run cut short counts them unanswered.
const DRAIN_MS = 60_000;

it('counts the requests due while its own loop was held as late, and still sends and times every one', async () => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('{}'));
  });
  const client = closeAfterTest(createLoadClient(`http://${await listenForTest(server)}`));
  // 200 req/s for 1 s; once the run has started, the loop is held 150 ms: 30 requests fall due meanwhile, and the
  // 27-28 of them due in its first 140 ms leave over 10 ms late (more when the machine delays the client further).
  setTimeout(() => {
    const until = performance.now() + 150;
    while (performance.now() < until);
  }, 300);
  const result = await client.run({ path: '/v1/chat/completions', body: { model: 'm' }, rate: 200, seconds: 1, drainMs: DRAIN_MS });
  expect(result.offered).toBe(200);
  expect(result.late).toBeGreaterThanOrEqual(25);
  expect(result.maxLateMs).toBeGreaterThanOrEqual(140);
  // Timed from when it was due, the latest request's wait is in its latency.
  expect(result.fromScheduleMs.max).toBeGreaterThanOrEqual(140);
  expect(result).toMatchObject({ completed: 200, errors: 0, dropped: 0 });
});

it('gives every request in flight its own socket: past 256 at the target, none waits in the client', async () => {
  // Answers nothing until 300 requests are open at once: with a cap of 256 sockets (before session 22) the other 44
  // waited in the client for one, and none was ever answered.
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      held.push(res);
      if (held.length === 300) for (const one of held) one.end('{}');
    });
  });
  const client = closeAfterTest(createLoadClient(`http://${await listenForTest(server)}`));
  // Closed before the client too, with its held requests, should some never be answered: the client's close waits for
  // its requests, and the test then fails rather than hangs.
  closeAfterTest({ close: () => closeServer(server) });
  const result = await client.run({ path: '/v1/chat/completions', body: { model: 'm' }, rate: 1000, seconds: 0.3, drainMs: DRAIN_MS });
  expect(result).toMatchObject({ offered: 300, completed: 300, errors: 0, dropped: 0, peakInFlight: 300, queuedInClient: 0 });
});
