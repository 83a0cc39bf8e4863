// Reads a request body with the size limit and the body timeout, without waiting past either.
import type { IncomingMessage } from 'node:http';

export type BodyRead = { ok: true; body: Buffer } | { ok: false; reason: 'too_large' | 'timeout' | 'aborted' };

const MERGE_EVERY = 64;

/** `reading` is called once the body is going to be read (not when its content-length is already too large). */
export function readBody(req: IncomingMessage, maxBytes: number, timeoutMs: number, reading?: () => void): Promise<BodyRead> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve({ ok: false, reason: 'too_large' });
  reading?.();
  return new Promise((resolve) => {
    // Chunks as they came, merged every MERGE_EVERY: a body sent as millions of 1-byte chunks (chunked encoding
    // allows it) would otherwise cost a Buffer object each, hundreds of bytes per body byte.
    const merged: Buffer[] = [];
    let chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: BodyRead): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      resolve(result);
    };
    const timer = setTimeout(() => finish({ ok: false, reason: 'timeout' }), timeoutMs);
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) return finish({ ok: false, reason: 'too_large' });
      chunks.push(chunk);
      if (chunks.length === MERGE_EVERY) {
        merged.push(Buffer.concat(chunks));
        chunks = [];
      }
    };
    const onEnd = (): void => {
      const all = merged.length === 0 ? chunks : [...merged, ...chunks];
      finish({ ok: true, body: all.length === 1 ? (all[0] as Buffer) : Buffer.concat(all) });
    };
    const onError = (): void => finish({ ok: false, reason: 'aborted' });
    const onClose = (): void => finish({ ok: false, reason: 'aborted' });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
