// Binding one of the proxy's HTTP servers (its traffic port, its admin API) and the URL it is then reached at.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on host:port (0: any free port); rejects with the bind error (EADDRINUSE and the like). */
export async function listen(server: Server, port: number, host: string): Promise<{ port: number; url: string }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  // An IPv6 literal is bracketed in a URL.
  return { port: bound, url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}` };
}
