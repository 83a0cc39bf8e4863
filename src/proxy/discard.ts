// The rest of a refused request's body, read and thrown away. A request answered before its body was read
// (401, 403, 404, 405, 413, 503) may still be sending it: closing the connection at once resets the client
// mid-write (a socket closed with unread bytes sends RST, and the client loses the answer it has not read yet:
// the openai SDK then reports "Connection error." and, by default, retries the same refused request). So the
// rest is discarded and the connection kept, bounded like nginx's lingering close: past DISCARD_FACTOR x
// max_body_bytes more bytes, or body_timeout, the proxy half-closes (FIN after the answer) and goes on reading
// for a short while, so the client reads its answer and closes; only a client that still sends is then reset.
// (Destroying the socket at once there sent RST while the client was still writing: a client that had not read
// the answer yet lost it, seen in CI as a 413 never arriving.)
import type { IncomingMessage } from 'node:http';
import { LINGER_MS, lingerClose } from './respond.js';

/** How many times max_body_bytes a refused request may still send before its connection is cut. */
const DISCARD_FACTOR = 4;

export const CLOSE = Object.freeze({ connection: 'close' });
const KEEP = Object.freeze({});

/**
 * Starts discarding what is left of `req`'s body and returns the headers its answer needs: none when the body is
 * complete or will be discarded, `connection: close` when it is too large to wait for (its content-length says so).
 */
export function discardRest(req: IncomingMessage, maxBodyBytes: number, timeoutMs: number): Readonly<{ connection?: string }> {
  if (req.complete) return KEEP;
  const budget = DISCARD_FACTOR * maxBodyBytes;
  const declared = Number(req.headers['content-length']);
  req.resume();
  if (Number.isFinite(declared) && declared > budget) {
    // Node ends a `connection: close` answer's connection with socket.destroySoon(): FIN, then a destroy once the
    // answer is written, which with the body still arriving is a reset that a client still writing may get before
    // it reads its answer (the openai SDK saw "Connection error." for a 413 in 6 of 10 tries of a 12 MiB body
    // against a 1 MiB limit). Here it half-closes and reads on (discarding) as cut() does below.
    const socket = req.socket;
    socket.destroySoon = () => lingerClose(socket, undefined, Math.min(LINGER_MS, timeoutMs));
    return CLOSE;
  }
  let seen = 0;
  let lingering = false;
  // FIN after the answer, then read on (discarding) until the client closes or LINGER_MS pass. No byte bound
  // here: the client may have its socket buffers' worth (megabytes) in flight before it reads the FIN.
  const cut = (): void => {
    clearTimeout(timer);
    lingering = true;
    lingerClose(req.socket, undefined, Math.min(LINGER_MS, timeoutMs));
  };
  const timer = setTimeout(cut, timeoutMs);
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > budget && !lingering) cut();
  });
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
  return KEEP;
}
