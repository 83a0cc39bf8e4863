// What the proxy reads of a request body before it routes it: UTF-8 JSON, an object naming its model, and
// whether it asks for a stream. The bytes themselves are kept, so an arm's body can be the application's own.
import { isAscii, isUtf8 } from 'node:buffer';
import { isObject } from '../upstream/shape.js';

export interface Parsed {
  raw: Buffer;
  text: string;
  body: Record<string, unknown>;
  model: string;
  stream: boolean;
}

/** A request body the proxy can route: UTF-8 JSON, an object naming its model; else why not (the 400's message). */
export function parseRequestBody(raw: Buffer): Parsed | string {
  let text: string;
  // ASCII (most bodies) is copied as Latin-1, byte for character: the same text, without the UTF-8 check and decoding.
  if (isAscii(raw)) text = raw.toString('latin1');
  // Decoding would turn bad bytes into U+FFFD, and the body sent upstream would then differ from the one read.
  else if (!isUtf8(raw)) return 'the request body is not UTF-8 (JSON must be)';
  else text = raw.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse refuses a leading byte order mark; RFC 8259 §8.1 forbids sending one, so say that, not "not JSON".
    if (text.startsWith('\uFEFF')) return 'the request body starts with a byte order mark (U+FEFF), which JSON sent over HTTP must not (RFC 8259 8.1)';
    return 'the request body is not valid JSON';
  }
  if (!isObject(value)) return 'the request body must be a JSON object';
  if (typeof value.model !== 'string' || value.model === '') return 'the request must name a model (a non-empty string)';
  return { raw, text, body: value, model: value.model, stream: value.stream === true };
}
