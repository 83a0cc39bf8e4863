// PUT /admin/route's `reason` and `by` are a caller's text: answered back, kept in proxy-route.json (a state file) and
// read by `status`. One quoting the proxy's upstream key (a script pasting its environment, an error it relays) was
// answered and stored as it came; the proxy's redactor now cuts every spelling of the key out as it comes in.
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runProxy, scriptedPlan, scriptedServer, UPSTREAM_KEY } from './helpers.js';
import { tempDir } from '../helpers/plans.js';
import { ROUTE_FILE } from '../../src/proxy/route.js';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

describe("a route's reason quoting the proxy's upstream key", () => {
  it('is answered, read back and stored with the key redacted, in its plain and base64 spellings alike', async () => {
    const scripted = await scriptedServer((_req, res) => res.end('{}'));
    const stateDir = tempDir();
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), {
      env: { UPSTREAM_KEY, ADMIN_TOKEN },
      stateDir,
    });
    const base64 = Buffer.from(UPSTREAM_KEY).toString('base64');
    const admin = (method: string, body?: unknown) =>
      fetch(`${running.proxy.adminUrl as string}/admin/route`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    const put = await admin('PUT', { greenWeight: 0, mirror: 0, reason: `blue by hand: key=${UPSTREAM_KEY} (${base64})`, by: `ops ${UPSTREAM_KEY}` });
    expect(put.status).toBe(200);
    const answered = await put.text();
    const read = await (await admin('GET')).text();
    const stored = readFileSync(path.join(stateDir, ROUTE_FILE), 'utf8');
    const { route } = JSON.parse(answered) as { route: { reason: string; by: string } };
    expect(route.by).toBe('ops [redacted]');
    expect(route.reason.startsWith('blue by hand: key=[redacted] ([redacted]')).toBe(true);
    for (const text of [answered, read, stored, running.logs.join('\n')]) {
      expect(text).toContain('[redacted]');
      expect(text).not.toContain(UPSTREAM_KEY.slice(0, 12));
      expect(text).not.toContain(base64.slice(0, 12));
    }
    // The ids a route is compared by are not redacted into other ids: one holding the key is refused (review35b L5).
    for (const body of [
      { greenWeight: 0, mirror: 0, controller: `run-${UPSTREAM_KEY}` },
      { greenWeight: 0, mirror: 0, controller: 'run-1', resumes: [`run-${UPSTREAM_KEY}`] },
    ]) {
      const refused = await admin('PUT', body);
      expect(refused.status).toBe(400);
      const said = await refused.text();
      expect(said).toMatch(/must not hold a key the proxy knows/);
      expect(said).not.toContain(UPSTREAM_KEY.slice(0, 12));
    }
    expect(readFileSync(path.join(stateDir, ROUTE_FILE), 'utf8')).not.toContain(UPSTREAM_KEY.slice(0, 12));
  });
});
