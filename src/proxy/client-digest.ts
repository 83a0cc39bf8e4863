// The sticky client a client abort carries (src/analysis/aborts.ts) as it leaves the proxy: in GET /admin/results
// and in a stopping proxy's handover file on disk. In the process it is a 32-bit FNV digest of the user or
// conversation id (chat.ts), which a dictionary of e-mail addresses reverses in seconds; so it leaves keyed:
// HMAC-SHA256 under a key derived from the admin token. Every proxy a rollout drives has that token (the rollout
// sends one to all of them), so one client has one digest on every proxy of the fleet and across a proxy's
// restarts, as the per-client abort cap needs; without the token the digest reverses to nothing. Computed once per
// abort as the result joins the feed, never on a request's path.
import { createHmac } from 'node:crypto';

/** What a digest is keyed by: bound to this use, so the token's HMAC is never a value seen elsewhere. */
const PURPOSE = 'bluegreen sticky client digest v1';
/** 96 bits in base64url: no two of a stage's clients share one. */
const DIGEST_CHARS = 16;

export type ClientDigest = (client: string) => string;

export function clientDigest(adminToken: string): ClientDigest {
  const key = createHmac('sha256', adminToken).update(PURPOSE).digest();
  return (client) => createHmac('sha256', key).update(client).digest('base64url').slice(0, DIGEST_CHARS);
}
