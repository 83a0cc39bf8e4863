// Request framing both listeners (the application's and the admin API's) refuse before anything reads a body.
import type { IncomingMessage } from 'node:http';

/**
 * Why the request's framing is faulty, else undefined: the answer then closes the connection. HTTP/1.0 has no
 * chunked encoding (RFC 9112 6.1): Node reads the chunks and kept the connection open, while a hop before the
 * listener that ignores Transfer-Encoding in HTTP/1.0 may take them for the next request (request smuggling).
 */
export function faultyFraming(req: IncomingMessage): string | undefined {
  return req.httpVersionMinor === 0 && req.headers['transfer-encoding'] !== undefined
    ? 'an HTTP/1.0 request cannot use Transfer-Encoding (RFC 9112 6.1): send a content-length'
    : undefined;
}
