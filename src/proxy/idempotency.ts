// An application's idempotency key (`Idempotency-Key`, `X-Idempotency-Key`) names one request to one upstream: a
// retry carrying it again gets the stored answer rather than a second run. The proxy sends one request of the
// application's to up to two models, perhaps on one provider account: green's attempt, blue's answer for it
// (fallback), or a mirror copy to green beside blue's. With the key passed unchanged an upstream that honours it
// could answer blue's fallback with green's stored failure (or refuse it: another body under the same key), and a
// mirror copy would take the key of the application's own request. So blue gets the key as the application sent
// it, green a key derived from it (the same for the same key: the application's retries still dedupe on each arm),
// and a mirror copy none (it is never retried, and must not collide with the application's next request).
import { createHash } from 'node:crypto';
import { NO_HEADERS } from './respond.js';

/** The request headers holding an idempotency key (Node gives names in lower case). */
const KEY_HEADERS = ['idempotency-key', 'x-idempotency-key'] as const;

/** The namespace of green's derived keys (a UUID of bluegreen's own; RFC 9562's name-based UUIDs). */
const GREEN_NAMESPACE = Buffer.from('6b1f0c52a4e94f2d9f7e3c1d2b8a5e40', 'hex');

/**
 * Green's key for the application's `key`: the name-based UUID (version 5) of it in GREEN_NAMESPACE. A UUID, as
 * an upstream may require of a key, and 36 characters whatever the key's length (a suffix could pass a limit
 * blue's key is within, a failure of green's the proxy made).
 */
export function greenIdempotencyKey(key: string): string {
  const hash = createHash('sha1').update(GREEN_NAMESPACE).update(key, 'utf8').digest();
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const hex = hash.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function holdsKey(headers: Readonly<Record<string, string>>): boolean {
  return headers !== NO_HEADERS && (headers[KEY_HEADERS[0]] !== undefined || headers[KEY_HEADERS[1]] !== undefined);
}

/** The application's headers for green's attempt: any idempotency key replaced by green's (the same object when none). */
export function greenHeaders(headers: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  if (!holdsKey(headers)) return headers;
  const out = { ...headers };
  for (const name of KEY_HEADERS) {
    const key = out[name];
    if (key !== undefined) out[name] = greenIdempotencyKey(key);
  }
  return out;
}

/** The application's headers for a mirror copy: without its idempotency keys (the same object when none). */
export function mirrorHeaders(headers: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  if (!holdsKey(headers)) return headers;
  const out = { ...headers };
  for (const name of KEY_HEADERS) delete out[name];
  return Object.keys(out).length === 0 ? NO_HEADERS : out;
}
