// The rest of a refused request's body, read and thrown away. A request answered before its body was read
// (401, 403, 404, 405, 413, 503) may still be sending it: closing the connection at once resets the client
// mid-write (a socket closed with unread bytes sends RST, and the client loses the answer it has not read yet:
// the openai SDK then reports "Connection error." and, by default, retries the same refused request). So the
// rest is discarded and the connection kept, bounded like nginx's lingering close: past DISCARD_FACTOR x
// max_body_bytes more bytes, or body_timeout, the connection is cut.
import type { IncomingMessage } from 'node:http';

/** How many times max_body_bytes a refused request may still send before its connection is cut. */
export const DISCARD_FACTOR = 4;

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
  if (Number.isFinite(declared) && declared > budget) return CLOSE;
  let seen = 0;
  const cut = (): void => {
    clearTimeout(timer);
    req.socket.destroy();
  };
  const timer = setTimeout(cut, timeoutMs);
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > budget) cut();
  });
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
  return KEEP;
}
