// An admin URL that reaches some other server answering 200 (the proxy's own port instead of its admin port, a
// catch-all) is a preflight failure naming it (exit 3), not an internal error. Found by hostile10: a 200 JSON
// answer without a route made `rollout` and `rollout --dry-run` end with "internal error (a bug, please report
// it): Cannot read properties of undefined (reading 'promotedArm')", exit 1.
import { describe, expect, it, onTestFinished } from 'vitest';
import { AdminClient, MAX_ADMIN_ANSWER_BYTES } from '../../src/live/admin-client.js';
import { runCli } from '../helpers/cli.js';
import { scriptedServer } from '../proxy/helpers.js';
import { ADMIN_TOKEN, writeRolloutPlan } from './helpers.js';

async function otherServer(contentType: string, body: string): Promise<string> {
  const server = await scriptedServer((_req, res) => {
    res.writeHead(200, { 'content-type': contentType });
    res.end(body);
  });
  return server.url.replace(/\/v1$/, '');
}

describe('an admin URL that is not a proxy admin API', () => {
  for (const [what, type, body] of [
    ['JSON without a route', 'application/json', '{"ok":true,"route":{"greenWeight":0}}'],
    ['HTML', 'text/html', '<html><body>Welcome</body></html>'],
  ] as const) {
    it(`answering 200 with ${what}: exit 3 naming it, for the real run and --dry-run`, async () => {
      const url = await otherServer(type, body);
      const dir = writeRolloutPlan({ stages: ['{ duration: 1m, green_weight: 0.5 }'] }, [url]);
      for (const args of [['--dry-run'], []]) {
        const result = await runCli(['rollout', 'plan.yaml', '--ci', ...args], { cwd: dir, env: { ADMIN_TOKEN } });
        expect(result.code, result.stderr).toBe(3);
        expect(result.stderr).toContain(`preflight: 1 of 1 proxies did not answer: ${url}`);
        expect(result.stderr).not.toContain('internal error');
      }
    });
  }
});

// Before (session 20): the admin client read an answer whole, however large: a URL answering without end (a stream,
// a wrong port) grew the rollout's memory until the call's timeout. Now it stops past MAX_ADMIN_ANSWER_BYTES.
it('an admin answer larger than the cap is refused at once, not held until the timeout', async () => {
  const server = await scriptedServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    // One byte past the cap, and the answer never ends: only a cap ends the read before the call's timeout.
    res.write(Buffer.alloc(MAX_ADMIN_ANSWER_BYTES + 1, 0x20));
  });
  // A timeout far longer than the read: without the cap the call would fail on it, "unreachable".
  const client = new AdminClient({ url: server.url.replace(/\/v1$/, ''), token: ADMIN_TOKEN, timeoutMs: 60_000 });
  onTestFinished(() => client.close());
  await expect(client.getRoute()).rejects.toThrow(`/admin/route answered more than ${MAX_ADMIN_ANSWER_BYTES} bytes: not a bluegreen proxy's admin answer`);
});
