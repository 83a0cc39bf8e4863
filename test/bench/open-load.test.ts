// The benchmarks' open-model client (bench/lib/open-load.js) keeps its schedule: after a stall of its own event loop
// (a GC, a loaded machine) the requests whose time passed are counted late, not sent at once as a burst, which
// then timed the client's stall as the proxy's latency. A real server on 127.0.0.1; the stall is forced.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';
import { closeAfterTest } from '../helpers/close-after-test.js';

interface LoadResult {
  offered: number;
  completed: number;
  errors: number;
  dropped: number;
  late: number;
}
interface LoadClient {
  run(options: { path: string; body: unknown; rate: number; seconds: number }): Promise<LoadResult>;
  close(): Promise<void>;
}

// Plain JavaScript without declarations (bench/ is type-checked on its own, against dist/).
const OPEN_LOAD = pathToFileURL(path.resolve(import.meta.dirname, '../../bench/lib/open-load.js')).href;
const { createLoadClient } = (await import(OPEN_LOAD)) as { createLoadClient: (origin: string) => LoadClient };

it('counts the requests due during a stall of its own loop as late, and sends only the ones on time', async () => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closeAfterTest({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
  const client = createLoadClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  // 200 req/s for 1 s; 300 ms in, the loop is held 150 ms: 30 requests fall due meanwhile.
  setTimeout(() => {
    const until = performance.now() + 150;
    while (performance.now() < until);
  }, 300);
  const result = await client.run({ path: '/v1/chat/completions', body: { model: 'm' }, rate: 200, seconds: 1 });
  await client.close();
  expect(result.offered).toBe(200);
  expect(result.late).toBeGreaterThanOrEqual(25);
  expect(result.completed + result.errors + result.dropped + result.late).toBe(result.offered);
});
