// A hook URL's credentials travel as Basic auth: an answer (or curl -v) quoting that header, or the password as it
// was decoded from the URL, must not bring them into messages, the journal or the reports (found by hostile18: a
// webhook answering 500 "denied for Basic Y2k6..." put the base64 of user:password in the terminal, events.jsonl,
// state.json and the JSON report).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { runHook, type HookEvent } from '../../src/hooks/index.js';

const EVENT: HookEvent = { event: 'stage', plan: 'demo', stage: 1, stages: 2, greenWeight: 0.5, blueModel: 'a', greenModel: 'b', at: 0 };

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A webhook that refuses every call, quoting the Authorization header it got and the credentials in it. */
async function echoingWebhook(): Promise<string> {
  const server = http.createServer((req, res) => {
    req.resume();
    const auth = req.headers.authorization ?? '';
    const decoded = Buffer.from(auth.replace(/^Basic /, ''), 'base64').toString('utf8');
    res.writeHead(403).end(`denied for ${auth} (${decoded.split(':')[1] ?? ''})`);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const basic = (credentials: string) => Buffer.from(credentials, 'utf8').toString('base64');

it("a webhook's answer quoting its Basic auth header or decoded password keeps neither", async () => {
  const host = await echoingWebhook();
  // The password percent-encoded in the URL, as a URL must hold an '@'.
  const outcome = await runHook({ webhook: `http://ci:Hook%40Secret-42@${host}/w`, timeout: 5000, retries: 0 }, EVENT, { cwd: '/', env: {} });
  expect(outcome.ok).toBe(false);
  expect(outcome.message).toContain(`webhook http://${host}/w answered 403: denied for Basic`);
  expect(outcome.message).not.toContain(basic('ci:Hook@Secret-42'));
  expect(outcome.message).not.toContain('Hook@Secret-42');
});

it("an exec hook's output quoting the Basic auth its command's URL sends (curl -v) keeps none of it", async () => {
  const token = basic('deploy:tok-s3cret-99');
  // What `curl -v https://deploy:tok-s3cret-99@host/x` prints before failing.
  const command = `echo "curl -v https://deploy:tok-s3cret-99@127.0.0.1:9/x" >&2; echo "> Authorization: Basic ${token}" >&2; exit 7`;
  const outcome = await runHook({ exec: command, timeout: 5000, retries: 0 }, EVENT, { cwd: '/', env: {} });
  expect(outcome.ok).toBe(false);
  expect(outcome.message).not.toContain(token);
  expect(outcome.message).not.toContain('tok-s3cret-99');
});
