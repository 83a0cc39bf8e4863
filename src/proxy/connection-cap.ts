// A listener's connections, at most a cap. Anyone reaching the port may connect (the key or token comes with a
// request), so a full house of connections that never showed one (silent, trickling their headers, or kept alive
// by answers that need none: a 401, an open /healthz) would shut out those who have one until they time out. Past
// the cap, the oldest connection that has not shown a key makes room; one that has is kept, and a new one is
// closed only when all have. Used by the admin API (its token) and by a proxy with client keys (a client key).
import type { Socket } from 'node:net';

export class ConnectionCap {
  /** Open connections, oldest first (a Set keeps insertion order). */
  private readonly open = new Set<Socket>();
  /** Connections that carried a request with a key. */
  private readonly vouched = new WeakSet<Socket>();

  constructor(private readonly max: number) {}

  /** A new connection: kept, with the oldest stranger closed to make room when the cap is reached; else closed. */
  admit(socket: Socket): void {
    if (this.open.size >= this.max) {
      const stranger = this.oldestStranger();
      if (stranger === undefined) return void socket.destroy();
      this.open.delete(stranger);
      stranger.destroy();
    }
    this.open.add(socket);
    socket.once('close', () => this.open.delete(socket));
  }

  /** The connection carried a key: it is not closed to make room. */
  vouch(socket: Socket): void {
    this.vouched.add(socket);
  }

  private oldestStranger(): Socket | undefined {
    for (const socket of this.open) if (!this.vouched.has(socket)) return socket;
    return undefined;
  }
}
