// An upstream answer encoded though the proxy asked for identity (`accept-encoding: identity`, targets.ts): some
// servers and CDNs compress anyway. Passed on as it came, its client could decode it but the proxy could not read
// it: an echoed key went out unredacted, and the answer was not judged (its reader saw compressed bytes). Such an
// answer is decoded on its way (node:zlib, streaming, with back-pressure both ways) and passes on without its
// content-encoding; one in an encoding the proxy does not decode is the arm's bad_response. An empty body is an
// empty answer (zlib would call it truncated). An identity answer, nearly all of them, costs one header lookup.
import type { Transform } from 'node:stream';
import { brotliDecompressSync, createBrotliDecompress, createGunzip, createInflate, gunzipSync, inflateSync } from 'node:zlib';
import type { HeaderMap } from '../upstream/classify.js';

const DECODERS: Readonly<Record<string, () => Transform>> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

const WHOLE_DECODERS: Readonly<Record<string, (body: Buffer, options: { maxOutputLength: number }) => Buffer>> = {
  gzip: gunzipSync,
  'x-gzip': gunzipSync,
  deflate: inflateSync,
  br: brotliDecompressSync,
};

/** No body to decode. */
const BODYLESS = new Set([204, 304]);

/** The answer's content-encoding when it is one (not identity) on a status with a body; else undefined. */
export function answerEncoding(status: number, headers: HeaderMap): string | undefined {
  const value = headers['content-encoding'];
  if (value === undefined || BODYLESS.has(status)) return undefined;
  const text = (Array.isArray(value) ? value.join(',') : value).trim().toLowerCase();
  return text === '' || text === 'identity' ? undefined : text;
}

/** The headers of the decoded answer: its encoding and encoded length dropped. */
export function decodedHeaders(headers: HeaderMap): HeaderMap {
  const out: HeaderMap = {};
  for (const name in headers) if (name !== 'content-encoding' && name !== 'content-length') out[name] = headers[name];
  return out;
}

/** Why an answer in `encoding` is not read: the proxy decodes gzip, deflate and br, one at a time. */
export function undecodedReason(encoding: string): string {
  const shown = encoding.length > 60 ? `${encoding.slice(0, 60)}...` : encoding;
  return `the upstream encoded its answer as ${JSON.stringify(shown)} though asked for identity (accept-encoding: identity); the proxy decodes gzip, deflate and br only`;
}

/** A small answer read whole, decoded, or why not: it decodes to more than the limit, or does not decode. */
export type WholeDecoded = { body: Buffer } | { tooLarge: true } | { tooLarge: false; reason: string };

/**
 * A small answer read whole (a model list), decoded. An empty body is empty (zlib calls it truncated: a server
 * that sends no bytes still labels them). Too large (past `maxBytes`) is told apart from not decoding: they are
 * different things to fix.
 */
export function decodeWhole(encoding: string, body: Buffer, maxBytes: number): WholeDecoded {
  const decode = Object.hasOwn(WHOLE_DECODERS, encoding) ? WHOLE_DECODERS[encoding] : undefined;
  if (decode === undefined) return { tooLarge: false, reason: 'the proxy decodes gzip, deflate and br only' };
  if (body.length === 0) return { body };
  try {
    return { body: decode(body, { maxOutputLength: maxBytes }) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') return { tooLarge: true };
    return { tooLarge: false, reason: `not valid ${encoding}: ${code ?? (error as Error).message}` };
  }
}

/** Pauses and resumes a source of bytes: the upstream's (undici's controller), or the decoder's. */
export interface Pausable {
  pause(): void;
  resume(): void;
}

/** Where the decoded answer goes (src/proxy/forwarding.ts). */
export interface DecodedReader {
  /** Decoded bytes; `source.pause()` holds the rest (and, once the decoder is full, the upstream). */
  answerData(source: Pausable, chunk: Buffer): void;
  answerEnd(): void;
  /** The body was not what its content-encoding said. */
  decodeFailed(reason: string): void;
}

/** One encoded answer's decoder, between the upstream (`upstream`) and its reader. */
export class AnswerDecoder implements Pausable {
  private readonly stream: Transform;
  /** The reader paused: no decoded bytes until it resumes. */
  private held = false;
  /** The decoder's input is full: the upstream waits for its drain. */
  private full = false;
  /** Any body bytes written: an empty body ends without the decoder, which calls it truncated (Z_BUF_ERROR). */
  private fed = false;

  /** undefined when the proxy does not decode `encoding` (undecodedReason). */
  static for(encoding: string, upstream: Pausable, reader: DecodedReader): AnswerDecoder | undefined {
    const make = Object.hasOwn(DECODERS, encoding) ? DECODERS[encoding] : undefined;
    return make && new AnswerDecoder(make(), encoding, upstream, reader);
  }

  private constructor(
    stream: Transform,
    encoding: string,
    private readonly upstream: Pausable,
    private readonly reader: DecodedReader,
  ) {
    this.stream = stream;
    stream.on('data', (chunk: Buffer) => reader.answerData(this, chunk));
    stream.on('end', () => reader.answerEnd());
    stream.on('error', (error: NodeJS.ErrnoException) =>
      reader.decodeFailed(`the upstream's ${encoding}-encoded answer did not decode (${error.code ?? error.message})`),
    );
    stream.on('drain', () => {
      this.full = false;
      if (!this.held) upstream.resume();
    });
  }

  write(chunk: Buffer): void {
    if (chunk.length > 0) this.fed = true;
    if (this.stream.write(chunk)) return;
    this.full = true;
    this.upstream.pause();
  }

  end(): void {
    if (this.fed) return void this.stream.end();
    // A server labels even no bytes (an empty 429 or 503, an empty relayed 2xx): the answer is empty, as sent.
    this.stream.destroy();
    this.reader.answerEnd();
  }

  pause(): void {
    this.held = true;
    this.stream.pause();
  }

  resume(): void {
    this.held = false;
    this.stream.resume();
    if (!this.full) this.upstream.resume();
  }

  destroy(): void {
    this.stream.destroy();
  }
}
