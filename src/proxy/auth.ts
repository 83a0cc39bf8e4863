// Client keys: compared in constant time (digests of equal length, every key checked), never forwarded.
import { createHash, timingSafeEqual } from 'node:crypto';

export type KeyCheck = (presented: string | undefined) => boolean;

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The check with no keys configured: every request passes (the proxy then only listens on loopback). */
export const OPEN_CHECK: KeyCheck = () => true;

export function createKeyCheck(keys: readonly string[]): KeyCheck {
  if (keys.length === 0) return OPEN_CHECK;
  const digests = keys.map(digest);
  return (presented) => {
    if (presented === undefined) return false;
    const candidate = digest(presented);
    let match = false;
    // No early exit: the time taken does not say which key (or how much of one) matched.
    for (const known of digests) match = timingSafeEqual(candidate, known) || match;
    return match;
  };
}
