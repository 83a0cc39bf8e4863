// A test's own server on 127.0.0.1 (a webhook receiver, an upstream), closed with its connections when the
// test ends, so the test file keeps no list of servers and no afterEach to close them.
import type { AddressInfo, Server } from 'node:net';
import { closeAfterTest } from './close-after-test.js';

/** An http(s) server can close its connections; a plain net server's are its handler's to end. */
type Listener = Server & { closeAllConnections?(): void };

/** Closes `server` and, where it can, every connection it holds; resolves once it is closed (or was already). */
export function closeServer(server: Listener): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}

/** Starts `server` on a free loopback port and returns its `127.0.0.1:port`. Call it inside a test. */
export async function listenForTest(server: Listener): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closeAfterTest({ close: () => closeServer(server) });
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}
