// A hook URL's credentials travel as Basic auth: an answer (or curl -v) quoting that header, or the password as it
// was decoded from the URL, must not bring them into messages, the journal or the reports (found by hostile18: a
// webhook answering 500 "denied for Basic Y2k6..." put the base64 of user:password in the terminal, events.jsonl,
// state.json and the JSON report).
import http from 'node:http';
import { expect, it } from 'vitest';
import { runHook, type HookEvent } from '../../src/hooks/index.js';
import { listenForTest } from '../helpers/loopback.js';

const EVENT: HookEvent = { event: 'stage', plan: 'demo', stage: 1, stages: 2, greenWeight: 0.5, blueModel: 'a', greenModel: 'b', at: 0 };

/** A webhook that refuses every call, quoting the Authorization header it got and the credentials in it. */
async function echoingWebhook(): Promise<string> {
  const server = http.createServer((req, res) => {
    req.resume();
    const auth = req.headers.authorization ?? '';
    const decoded = Buffer.from(auth.replace(/^Basic /, ''), 'base64').toString('utf8');
    res.writeHead(403).end(`denied for ${auth} (${decoded.split(':')[1] ?? ''})`);
  });
  return listenForTest(server);
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

it("a webhook's answer spelling the Basic token URL-encoded, JSON-escaped or unpadded keeps none of it (hostile19)", async () => {
  // A token with '+', '/' and '=' padding: each is spelled otherwise in a URL-encoded or PHP-escaped quote.
  const token = basic('ci:pw>>>?x');
  expect(token).toBe('Y2k6cHc+Pj4/eA==');
  const server = http.createServer((req, res) => {
    req.resume();
    const sent = (req.headers.authorization ?? '').replace(/^Basic /, '');
    res.writeHead(401).end(`denied: ${encodeURIComponent(sent)} | ${sent.replaceAll('/', '\\/')} | ${sent.replace(/=+$/, '')}`);
  });
  const host = await listenForTest(server);
  const outcome = await runHook({ webhook: `http://ci:pw%3E%3E%3E%3Fx@${host}/w`, timeout: 5000, retries: 0 }, EVENT, { cwd: '/', env: {} });
  expect(outcome.message).toContain('answered 401: denied: ');
  // Any 12 characters of the token's start decode to the user name and most of the password.
  for (const spelling of ['Y2k6cHc%2BPj4', 'Y2k6cHc+Pj4', 'Pj4\\/eA', 'Pj4%2FeA']) expect(outcome.message).not.toContain(spelling);
});
