// Binding one of the proxy's HTTP servers (its traffic port, its admin API) and the URL it is then reached at.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The listen queue: connections the kernel has accepted and the event loop has not yet taken. Node's default is 511;
 * a gateway meets bursts of new connections (an application's pool opening many at once, clients reconnecting after a
 * hold of the loop), and a connection that finds the queue full is not refused but dropped, so its client waits for
 * a SYN retransmit: 1 s, then 3 s. The kernel caps this at net.core.somaxconn (4096 since Linux 5.4).
 */
export const LISTEN_BACKLOG = 4096;

/** Listens on host:port (0: any free port); rejects with the bind error (EADDRINUSE and the like). */
export async function listen(server: Server, port: number, host: string): Promise<{ port: number; url: string }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  // An IPv6 literal is bracketed in a URL.
  return { port: bound, url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}` };
}
