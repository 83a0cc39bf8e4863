import diagnostics from 'node:diagnostics_channel';
import http from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runHook, type HookEvent } from '../../src/hooks/index.js';
import type { HookConfig } from '../../src/plan/schema.js';
import { listenForTest } from '../helpers/loopback.js';
import { until } from '../helpers/until.js';
import { refusedPort } from '../live/helpers.js';

const EVENT: HookEvent = {
  event: 'stage',
  plan: 'demo',
  stage: 3,
  stages: 5,
  greenWeight: 0.5,
  blueModel: 'gpt-4o',
  greenModel: 'gpt-4.1',
  at: 1_700_000_000_000,
};

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Answer = (req: Received, res: http.ServerResponse) => void;

afterEach(() => {
  vi.useRealTimers();
});

/** A server answering request i with answers[i] (the last one repeats); records what it received. */
async function serve(...answers: Answer[]): Promise<{ base: string; received: Received[] }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const record = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      received.push(record);
      const answer = answers[Math.min(received.length, answers.length) - 1];
      answer?.(record, res);
    });
  });
  return { base: `http://${await listenForTest(server)}`, received };
}

const status =
  (code: number, body = '', headers: Record<string, string> = {}): Answer =>
  (_req, res) => {
    res.writeHead(code, headers).end(body);
  };

function webhook(url: string, retries = 2, timeout = 5000): HookConfig {
  return { webhook: url, timeout, retries };
}

/** Records the waits; jitter fixed at half the backoff ceiling. */
function recorder(): { sleep: (ms: number) => Promise<void>; random: () => number; waits: number[] } {
  const waits: number[] = [];
  return { waits, random: () => 0.5, sleep: async (ms) => void waits.push(ms) };
}

describe('webhook hooks', () => {
  it('POST the event as JSON and succeed on 2xx', async () => {
    const { base, received } = await serve(status(204));
    const outcome = await runHook(webhook(`${base}/hooks/stage?token=s3cret`), EVENT, { cwd: '/', env: {} });
    expect(outcome).toMatchObject({ ok: true, kind: 'webhook', attempts: 1, status: 204 });
    expect(outcome.message).toMatch(new RegExp(`^webhook ${base}/hooks/stage answered 204 in \\d+ms$`));
    expect(received).toHaveLength(1);
    expect(received[0]?.method).toBe('POST');
    expect(received[0]?.url).toBe('/hooks/stage?token=s3cret');
    expect(received[0]?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(received[0]?.body ?? '')).toEqual({ type: 'bluegreen.stage', ...EVENT });
  });

  it('send credentials written in the URL as Basic auth, never quoting them', async () => {
    const { base, received } = await serve(status(401, 'who are you'));
    const url = base.replace('http://', 'http://deploy:p%40ss-s3cret@');
    const outcome = await runHook(webhook(`${url}/w`, 0), EVENT, { cwd: '/', env: {} });
    expect(received[0]?.headers.authorization).toBe(`Basic ${Buffer.from('deploy:p@ss-s3cret').toString('base64')}`);
    expect(received[0]?.url).toBe('/w');
    expect(outcome.message).toBe(`webhook ${base}/w answered 401: who are you`);
  });

  it("quote no piece of the URL's token when the answer it quotes is cut inside it", async () => {
    const token = 'tk-s3cret-77-abcdef';
    // The answer echoes the URL with its token across the 120-character cut of the quoted body.
    const { base } = await serve((req, res) => res.writeHead(400).end(`${'x'.repeat(100)} bad token=${token} for ${req.url}`));
    const outcome = await runHook(webhook(`${base}/w?token=${token}`, 0), EVENT, { cwd: '/', env: {} });
    expect(outcome.message).toContain(`webhook ${base}/w answered 400: xxx`);
    expect(outcome.message).not.toMatch(/tk-s|s3cr/);
  });

  it('send no authorization header for a URL without credentials', async () => {
    const { base, received } = await serve(status(200));
    await runHook(webhook(`${base}/w`), EVENT, { cwd: '/', env: {} });
    expect(received[0]?.headers.authorization).toBeUndefined();
  });

  it('retry a 500 and succeed on the next answer', async () => {
    const { base, received } = await serve(status(500), status(200));
    const { sleep, random, waits } = recorder();
    const outcome = await runHook(webhook(`${base}/w`), EVENT, { cwd: '/', env: {}, sleep, random });
    expect(outcome).toMatchObject({ ok: true, attempts: 2, status: 200 });
    expect(outcome.message).toMatch(/answered 200 in \d+ms after 2 attempts$/);
    expect(received).toHaveLength(2);
    expect(waits).toEqual([250]);
  });

  it('give up after every attempt fails, without showing the query string', async () => {
    const { base, received } = await serve(status(503, 'upstream overloaded, token=s3cret-token ignored'));
    const { sleep, random, waits } = recorder();
    const url = `${base}/rollback?token=s3cret-token`;
    const outcome = await runHook(webhook(url, 2), EVENT, { cwd: '/', env: {}, sleep, random });
    expect(outcome).toMatchObject({ ok: false, attempts: 3, status: 503 });
    expect(outcome.message).toBe(`webhook ${base}/rollback answered 503 after 3 attempts: upstream overloaded, … ignored`);
    expect(outcome.message).not.toContain('?token');
    expect(outcome.message).not.toContain('s3cret');
    expect(received).toHaveLength(3);
    expect(waits).toEqual([250, 500]);
  });

  it('quote the answer without terminal escapes', async () => {
    const { base } = await serve(status(404, 'no \u001b[2Jsuch\u001b]0;pwned\u0007 hook\u009b'));
    const outcome = await runHook(webhook(`${base}/w`), EVENT, { cwd: '/', env: {}, sleep: async () => {} });
    expect(outcome.message).toBe(`webhook ${base}/w answered 404: no [2Jsuch ]0;pwned hook`);
  });

  it('honour a short Retry-After on 429', async () => {
    const { base } = await serve(status(429, '', { 'retry-after': '2' }), status(200));
    const { sleep, random, waits } = recorder();
    const outcome = await runHook(webhook(`${base}/w`), EVENT, { cwd: '/', env: {}, sleep, random });
    expect(outcome.ok).toBe(true);
    expect(waits).toEqual([2000]);
  });

  it('do not retry a 4xx other than 408 and 429', async () => {
    const { base, received } = await serve(status(404, 'no such hook'));
    const outcome = await runHook(webhook(`${base}/w`), EVENT, { cwd: '/', env: {}, sleep: async () => {} });
    expect(outcome).toMatchObject({ ok: false, attempts: 1, message: `webhook ${base}/w answered 404: no such hook` });
    expect(received).toHaveLength(1);
  });

  it('time out an attempt that gets no answer', async () => {
    const { base, received } = await serve(() => {
      /* never answers */
    });
    // The attempts' timers are faked and moved once the server has each request: a real 200 ms ran out, now and then
    // on a loaded machine, before the aborted attempt's request had reached the server (which then saw 1, not 2).
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const outcome = runHook(webhook(`${base}/slow?key=abc123`, 1), EVENT, { cwd: '/', env: {}, fetchTimeoutMs: 200, sleep: async () => {} });
    for (const attempt of [1, 2]) {
      await until(() => received.length === attempt, `attempt ${attempt} at the server`);
      await vi.advanceTimersByTimeAsync(200);
    }
    expect(await outcome).toMatchObject({ ok: false, attempts: 2, message: `webhook ${base}/slow timed out after 200ms on each of 2 attempts` });
    expect(received).toHaveLength(2);
  });

  it('report a refused connection after its retries', async () => {
    // A port sure to refuse: one a server held and released could be another process's listener by the first attempt.
    const base = `http://127.0.0.1:${await refusedPort()}`;
    const outcome = await runHook(webhook(`${base}/w?token=zzz-secret`, 1), EVENT, { cwd: '/', env: {}, sleep: async () => {} });
    expect(outcome.ok).toBe(false);
    expect(outcome.attempts).toBe(2);
    expect(outcome.message).toMatch(new RegExp(`^webhook ${base}/w failed after 2 attempts: .*ECONNREFUSED`));
    expect(outcome.message).not.toContain('zzz-secret');
  });

  // Before: the status was in, but an abort while the body was read said "was cancelled" of a hook that had answered.
  it('report the answer when the signal aborts once the status is in, while the body is still coming', async () => {
    const { base } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('applied');
      // The rest of the body never comes.
    });
    const controller = new AbortController();
    // The abort waits for undici to have the answer's headers, then for the request's promise to settle.
    const onHeaders = () => setImmediate(() => controller.abort());
    diagnostics.subscribe('undici:request:headers', onHeaders);
    try {
      const outcome = await runHook(webhook(`${base}/w`, 0), EVENT, { cwd: '/', env: {}, signal: controller.signal, sleep: async () => {} });
      expect(outcome).toMatchObject({
        ok: true,
        attempts: 1,
        status: 200,
        message: expect.stringMatching(new RegExp(`^webhook ${base}/w answered 200 in `)) as unknown,
      });
    } finally {
      diagnostics.unsubscribe('undici:request:headers', onHeaders);
    }
  });

  /**
   * A webhook whose receiver sends `status` and the start of a body that never ends, with 2 retries and 200 ms an
   * attempt: its outcome once the attempt's time ran out while the body was read, and the POSTs the receiver got.
   */
  async function stalledBody(status: number, start: string) {
    const { base, received } = await serve((_req, res) => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.write(start);
      // The rest of the body never comes.
    });
    let headers = 0;
    const onHeaders = () => void headers++;
    diagnostics.subscribe('undici:request:headers', onHeaders);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let settled = false;
      const outcome = runHook(webhook(`${base}/w`, 2), EVENT, { cwd: '/', env: {}, fetchTimeoutMs: 200, sleep: async () => {} });
      void outcome.finally(() => (settled = true));
      // The attempt's time runs out once the status is in, while the body is read.
      await until(() => headers === 1, `the ${status} to arrive`);
      await vi.advanceTimersByTimeAsync(200);
      await until(() => settled || received.length > 1, 'the outcome, or a second POST');
      return { base, received, outcome: await outcome };
    } finally {
      diagnostics.unsubscribe('undici:request:headers', onHeaders);
    }
  }

  // Before: a 200 whose body did not come in the attempt's time counted as a timeout and was retried, so the receiver,
  // which had answered 200, got the POST again (a promote or rollback webhook fired twice).
  it('count a 2xx whose body does not come in time as answered, sent once, saying the body was not read', async () => {
    const { base, received, outcome } = await stalledBody(200, 'applied');
    expect(received).toHaveLength(1);
    expect(outcome).toMatchObject({
      ok: true,
      attempts: 1,
      status: 200,
      message: expect.stringMatching(new RegExp(`^webhook ${base}/w answered 200 in \\d+ms; its body was not read \\(timed out after 200ms\\)$`)) as unknown,
    });
  });

  it('go by the status of a 4xx whose body does not come in time: not retried, the body said not read', async () => {
    const { base, received, outcome } = await stalledBody(404, 'no such');
    expect(received).toHaveLength(1);
    expect(outcome).toMatchObject({
      ok: false,
      attempts: 1,
      status: 404,
      message: `webhook ${base}/w answered 404; its body was not read (timed out after 200ms)`,
    });
  });

  it('count a 2xx whose connection breaks during its body as answered, sent once', async () => {
    const { base, received } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('applied', () => res.socket?.destroy());
    });
    const outcome = await runHook(webhook(`${base}/w`, 2), EVENT, { cwd: '/', env: {}, sleep: async () => {} });
    expect(outcome).toMatchObject({ ok: true, attempts: 1, status: 200 });
    expect(outcome.message).toMatch(new RegExp(`^webhook ${base}/w answered 200 in \\d+ms; its body was not read \\(.+\\)$`));
    expect(received).toHaveLength(1);
  });

  it('stop retrying once the signal aborts', async () => {
    const { base, received } = await serve(status(500));
    const controller = new AbortController();
    const outcome = await runHook(webhook(`${base}/w`, 5), EVENT, {
      cwd: '/',
      env: {},
      signal: controller.signal,
      sleep: async () => controller.abort(),
    });
    expect(outcome).toMatchObject({ ok: false, attempts: 1, message: `webhook ${base}/w was cancelled: the rollout is stopping` });
    expect(received).toHaveLength(1);
  });
});
