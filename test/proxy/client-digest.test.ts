// A client abort's sticky client leaves the proxy keyed (HMAC under the admin token), in GET /admin/results and in
// a stopping proxy's handover file: not the in-process 32-bit FNV digest a dictionary of e-mails reverses, never the
// id; the same on two proxies of one fleet (one admin token), another under another token. And a proxy read by an
// older rollout says so when it stops.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { stickyClient } from '../../src/analysis/aborts.js';
import { AdminClient } from '../../src/live/admin-client.js';
import { clientDigest } from '../../src/proxy/client-digest.js';
import { HANDOVER_DIR } from '../../src/proxy/handover.js';
import { FEED_VERSION } from '../../src/proxy/results-feed.js';
import { tempDir } from '../helpers/plans.js';
import { runProxy, scriptedPlan, scriptedServer, UPSTREAM_KEY, type Running } from './helpers.js';
import { until } from '../helpers/until.js';

const USER = 'alice@example.com';
const TOKEN = 'fleet-admin-token-0123456789';

interface Proxy {
  running: Running;
  admin: AdminClient;
  aborts: number;
}

/** One chat request naming USER, sent to green (held unanswered upstream) and given up by its client. */
async function abandon(proxy: Proxy, held: () => number): Promise<void> {
  const before = { held: held(), aborts: proxy.aborts };
  const leaving = new AbortController();
  const request = fetch(`${proxy.running.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer app-key' },
    body: JSON.stringify({ model: 'blue-model', user: USER, messages: [{ role: 'user', content: 'hello' }] }),
    signal: leaving.signal,
  }).catch(() => undefined);
  await until(() => held() > before.held, 'the request at the upstream');
  leaving.abort();
  await request;
  await until(() => proxy.aborts > before.aborts, 'the abort recorded');
}

async function proxyWith(token: string, upstream: string, stateDir?: string): Promise<Proxy> {
  const running = await runProxy(scriptedPlan(upstream, { proxy: '{ fallback: false, admin: { token_env: ADMIN_TOKEN } }' }), {
    env: { UPSTREAM_KEY, ADMIN_TOKEN: token },
    stateDir,
  });
  // Its timeout only bounds a hang: the proxy answers from this worker, which a loaded machine stalls past 2 s.
  const admin = new AdminClient({ url: running.proxy.adminUrl as string, token, timeoutMs: 60_000 });
  await admin.setRoute({ greenWeight: 1, mirror: 0, ttlMs: 600_000, controller: 'run-1' });
  const proxy: Proxy = { running, admin, aborts: 0 };
  running.proxy.metrics.onAbandoned(() => proxy.aborts++);
  return proxy;
}

async function abortedClients(proxy: Proxy): Promise<(string | undefined)[]> {
  return (await proxy.admin.results(0)).results.map((entry) => entry.result.client);
}

describe("a client abort's sticky client as it leaves the proxy", () => {
  it('is keyed by the admin token in GET /admin/results and in the handover file, the same on every proxy of the fleet', async () => {
    const held: ServerResponse[] = [];
    const upstream = await scriptedServer((_req, res) => held.push(res));
    const stateDir = tempDir();
    const first = await proxyWith(TOKEN, upstream.url, stateDir);
    const second = await proxyWith(TOKEN, upstream.url);
    const other = await proxyWith('another-admin-token-0123456789', upstream.url);
    for (const proxy of [first, second, other]) await abandon(proxy, () => held.length);
    const [a, b, c] = await Promise.all([first, second, other].map(abortedClients));

    const keyed = clientDigest(TOKEN)(stickyClient(USER));
    expect(a).toEqual([keyed]);
    expect(keyed).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(b).toEqual([keyed]);
    expect(c).toHaveLength(1);
    expect(c?.[0]).not.toBe(keyed);
    // Neither the id nor its unkeyed digest, which a dictionary would reverse.
    expect(keyed).not.toBe(stickyClient(USER));

    // Stopped unread while a rollout drives it: the file on disk carries the keyed digest only.
    await first.running.proxy.drain(1000);
    await first.running.close();
    const [file] = readdirSync(path.join(stateDir, HANDOVER_DIR)).filter((name) => name.includes('.json'));
    const text = readFileSync(path.join(stateDir, HANDOVER_DIR, file as string), 'utf8');
    expect(text).toContain(keyed);
    expect(text).not.toContain(stickyClient(USER));
    expect(text).not.toContain('alice');
    for (const res of held) res.destroy();
    await Promise.all([first, second, other].map(({ admin }) => admin.close()));
  });
});

describe('a proxy read by an older rollout (no epoch in its reads)', () => {
  it('says its feed version, and says when it stops that its handover may be judged without checks', async () => {
    const held: ServerResponse[] = [];
    const upstream = await scriptedServer((_req, res) => held.push(res));
    const stateDir = tempDir();
    const proxy = await proxyWith(TOKEN, upstream.url, stateDir);
    await abandon(proxy, () => held.length);
    // Read as a rollout before handovers did: from its cursor, without the feed's epoch.
    const response = await fetch(`${proxy.running.proxy.adminUrl as string}/admin/results?after=0`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(((await response.json()) as { version?: number }).version).toBe(FEED_VERSION);
    // Its next poll goes on from there: the abort counts as read, and is not handed over.
    await fetch(`${proxy.running.proxy.adminUrl as string}/admin/results?after=1`, { headers: { authorization: `Bearer ${TOKEN}` } });
    await proxy.running.proxy.drain(1000);
    expect(proxy.running.logs.join('\n')).toContain('does not say which results it has read (a bluegreen older than this proxy)');
    await proxy.running.close();
    expect(existsSync(path.join(stateDir, HANDOVER_DIR))).toBe(false);
    for (const res of held) res.destroy();
    await proxy.admin.close();
  });
});
