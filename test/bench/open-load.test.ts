// The benchmarks' open-model client (bench/lib/open-load.js) counts the requests it sends late, and how late: a client
// whose own loop is held offers less than its rate meanwhile (coordinated omission), which the sustained rule bounds.
// A real server on 127.0.0.1; the client's loop is held on purpose, so the lateness is at least that hold, whatever
// else the machine does.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';
import { closeAfterTest } from '../helpers/close-after-test.js';
import type { LoadResult } from './load-result.js';

interface LoadClient {
  run(options: { path: string; body: unknown; rate: number; seconds: number }): Promise<LoadResult>;
  close(): Promise<void>;
}

// Plain JavaScript without declarations (bench/ is type-checked on its own, against dist/).
const OPEN_LOAD = pathToFileURL(path.resolve(import.meta.dirname, '../../bench/lib/open-load.js')).href;
const { createLoadClient } = (await import(OPEN_LOAD)) as { createLoadClient: (origin: string) => LoadClient };

it('counts the requests due while its own loop was held as late, and still sends and times every one', async () => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closeAfterTest({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
  const client = closeAfterTest(createLoadClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  // 200 req/s for 1 s; once the run has started, the loop is held 150 ms: 30 requests fall due meanwhile, and the
  // 27-28 of them due in its first 140 ms leave over 10 ms late (more when the machine delays the client further).
  setTimeout(() => {
    const until = performance.now() + 150;
    while (performance.now() < until);
  }, 300);
  const result = await client.run({ path: '/v1/chat/completions', body: { model: 'm' }, rate: 200, seconds: 1 });
  expect(result.offered).toBe(200);
  expect(result.late).toBeGreaterThanOrEqual(25);
  expect(result.maxLateMs).toBeGreaterThanOrEqual(140);
  expect(result).toMatchObject({ completed: 200, errors: 0, dropped: 0 });
});
