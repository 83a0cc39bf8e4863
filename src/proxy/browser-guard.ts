// A keyless proxy (loopback only) trusts whoever can reach it, and a web page in the operator's browser can:
// a cross-site POST needs no preflight when it is text/plain, and DNS rebinding makes a page's own name resolve
// to 127.0.0.1 so it can read the answers too. Such requests carry a foreign Origin or Host; the proxy's real
// clients (SDKs, curl, a port-forward) name a loopback address in both, or send no Origin at all. The admin API on
// loopback is guarded alike (its token is the first guard: this one keeps a rebound page from even trying it).
import type { IncomingHttpHeaders } from 'node:http';
import { isLoopback } from './config.js';

/**
 * The host name of a Host header (`name:port`, `[v6]:port`), without the one trailing dot of a fully qualified name:
 * `localhost.` is `localhost` to every resolver, and no other site's page can be named so.
 */
function hostName(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  const name = colon >= 0 ? host.slice(0, colon) : host;
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

function loopbackOrigin(origin: string): boolean {
  try {
    return isLoopback(hostName(new URL(origin).host));
  } catch {
    // "null" (a sandboxed frame, a file) or garbage: not a page of this machine's own.
    return false;
  }
}

/**
 * What a guard's refusals say: why it answers loopback names only (`this proxy asks no client key`), and how to serve
 * others (`set proxy.client_keys_env to serve them`).
 */
export interface GuardWords {
  why: string;
  remedy: string;
}

/** The words of a keyless proxy's own listener. */
export const KEYLESS_PROXY: GuardWords = { why: 'this proxy asks no client key', remedy: 'set proxy.client_keys_env to serve them' };

/**
 * Why `host` is not a loopback name, else undefined. A request without Host (HTTP/1.0, which does not require it:
 * RFC 9112 3.2) is refused too: the guard could not tell a rebound page's request from the proxy's own clients'.
 */
function hostRefusal(host: string | undefined, words: GuardWords): string | undefined {
  if (host !== undefined && isLoopback(hostName(host.trim()))) return undefined;
  const named = host === undefined ? 'a request without a Host header' : JSON.stringify(host);
  return `${words.why}, so it only answers requests addressed to a loopback name (Host: localhost, localhost. or 127.0.0.1), not ${named}; ${words.remedy}`;
}

/** Why a request looks like a web page's rather than an application's, else undefined. */
export type BrowserGuard = (headers: IncomingHttpHeaders) => string | undefined;

/**
 * The guard of one loopback listener that asks no client key. It remembers the last Host it let through: an
 * application's requests all name the same one, and checking it (an IP address parse) cost more than the rest of
 * the guard. It starts at null (no header's value), so a first request without Host is checked too.
 */
export function createBrowserGuard(words: GuardWords = KEYLESS_PROXY): BrowserGuard {
  let allowedHost: string | null = null;
  return (headers) => {
    const host = headers.host;
    if (host !== allowedHost) {
      const refused = hostRefusal(host, words);
      if (refused !== undefined) return refused;
      allowedHost = host ?? null;
    }
    const origin = headers.origin;
    if (origin !== undefined && !loopbackOrigin(origin)) {
      return `${words.why}, so it refuses requests from web pages of other origins (${JSON.stringify(origin)}); ${words.remedy}`;
    }
    // A page's <img> or no-cors GET sends no Origin; browsers mark it cross-site all the same. With an Origin, the
    // check above judged it (a page of this machine at localhost:3000 calling 127.0.0.1 is cross-site too).
    if (origin === undefined && headers['sec-fetch-site'] === 'cross-site') {
      return `${words.why}, so it refuses requests a browser marks cross-site (Sec-Fetch-Site: cross-site, no Origin); ${words.remedy}`;
    }
    return undefined;
  };
}
