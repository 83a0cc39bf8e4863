// A test's own HTTP server on 127.0.0.1 (a webhook receiver, an upstream), closed with its connections when the
// test ends, so the test file keeps no list of servers and no afterEach to close them.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeAfterTest } from './close-after-test.js';

/** Starts `server` on a free loopback port and returns its `127.0.0.1:port`. Call it inside a test. */
export async function listenForTest(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closeAfterTest({
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}
