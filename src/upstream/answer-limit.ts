// How much of an upstream's answer a reader may hold: a body read whole, a stream line not ended yet, or a
// stream's text. An
// upstream sending without end (a broken relay, a wrong base_url) would otherwise be held until the request
// timeout, once per request in flight: a rollout grew to 2.7 GB and could be killed for memory, leaving its hook's
// weights where they were. The proxy's limit is proxy.limits.max_response_bytes, whose default this is.
import type { StreamReader } from './dialect.js';

/** Largest answer read whole, and longest stream line held, by the traffic path (16 MiB). */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/**
 * How many characters of `text` follow its last line break, or -1 when it has none. Scanned from the end, so a
 * chunk ending in a line break (as SSE chunks do) costs one look, not two searches over the whole chunk.
 */
export function charsAfterLineBreak(text: string): number {
  for (let i = text.length - 1; i >= 0; i--) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || c === 0x0d) return text.length - 1 - i;
  }
  return -1;
}

/**
 * `reader`, failing its stream once the text it holds passes `maxChars`. A reader keeps the answer's text for the
 * quality checks, so a stream of endless short lines (each under the line bound) grew it without end: a 540 MB
 * answer passed V8's longest string and crashed the proxy (RangeError in a microtask). Past the bound the stream
 * is a bad_response, read no further (its bytes still reach a proxy's client).
 */
export function textCapped(reader: StreamReader, maxChars: number, limitName = ''): StreamReader {
  let held = 0;
  return {
    event(message) {
      const step = reader.event(message);
      // The message is made only for the stream that passes the bound (a proxy makes a reader a stream).
      if (step.delta !== undefined && (held += step.delta.length) > maxChars)
        return { error: `the answer's text is longer than ${maxChars} characters${limitName && ` (${limitName})`}` };
      return step;
    },
    finish: () => reader.finish(),
  };
}

/**
 * Why a stream parser stopped: what it held of an event not ended yet passed `maxChars` (src/upstream/sse-parser.ts).
 * It joins the event's data lines until the blank line that ends it, so an upstream sending none grew that text
 * without end, each line under the line bound and no text counted yet (hostile22).
 */
export function eventTooLong(maxChars: number, limitName = ''): string {
  return `an event's data is longer than ${maxChars} characters${limitName && ` (${limitName})`}`;
}
