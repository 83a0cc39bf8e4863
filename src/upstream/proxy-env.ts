// HTTPS_PROXY / HTTP_PROXY / NO_PROXY: an upstream behind a corporate forward proxy is reached through it.
// Custom CAs (a TLS-inspecting proxy) come from Node's own NODE_EXTRA_CA_CERTS, read at startup.
import { EnvHttpProxyAgent, Pool, type Dispatcher } from 'undici';

export interface ProxySettings {
  httpProxy: string;
  httpsProxy: string;
  noProxy: string;
}

function first(env: NodeJS.ProcessEnv, ...names: string[]): string {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return value;
  }
  return '';
}

/** The proxy variables, lower-case names first as curl reads them; '' when unset. */
export function proxySettings(env: NodeJS.ProcessEnv): ProxySettings {
  return {
    httpProxy: first(env, 'http_proxy', 'HTTP_PROXY'),
    httpsProxy: first(env, 'https_proxy', 'HTTPS_PROXY') || first(env, 'http_proxy', 'HTTP_PROXY'),
    noProxy: first(env, 'no_proxy', 'NO_PROXY'),
  };
}

function bypassed(url: URL, noProxy: string): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return noProxy.split(/[,\s]+/).some((raw) => {
    const entry = raw.trim().toLowerCase();
    if (entry === '') return false;
    if (entry === '*') return true;
    const [name = '', entryPort] = entry.split(/:(?=\d+$)/);
    if (entryPort !== undefined && entryPort !== port) return false;
    const bare = name.replace(/^\*?\./, '');
    return host === bare || host.endsWith(`.${bare}`);
  });
}

/** The proxy URL requests to `url` go through, or undefined for a direct connection. */
export function proxyFor(url: URL, settings: ProxySettings): string | undefined {
  const proxy = url.protocol === 'https:' ? settings.httpsProxy : settings.httpProxy;
  if (!proxy || bypassed(url, settings.noProxy)) return undefined;
  return proxy;
}

export interface DispatcherOptions {
  connections: number;
  connectTimeoutMs: number;
  env: NodeJS.ProcessEnv;
}

/**
 * A keep-alive pool to the origin, or, when a proxy variable covers it, undici's EnvHttpProxyAgent: plain
 * absolute-URI forwarding for http:// upstreams, a CONNECT tunnel for https:// ones. Every value is passed
 * explicitly (never read from process.env by undici), so the environment stays injectable.
 */
export function createDispatcher(origin: URL, options: DispatcherOptions): { dispatcher: Dispatcher; proxy?: string } {
  const settings = proxySettings(options.env);
  const proxy = proxyFor(origin, settings);
  const connect = { timeout: options.connectTimeoutMs };
  if (proxy === undefined) return { dispatcher: new Pool(origin.origin, { connections: options.connections, connect }) };
  const dispatcher = new EnvHttpProxyAgent({
    httpProxy: settings.httpProxy,
    httpsProxy: settings.httpsProxy,
    noProxy: settings.noProxy,
    connections: options.connections,
    connect,
    // http:// upstreams are forwarded as proxies expect them (GET http://host/path), not tunnelled.
    proxyTunnel: false,
  });
  return { dispatcher, proxy };
}
