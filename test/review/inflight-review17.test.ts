// review17, on inflight17 (the last stage's end waits for every stage's requests, and rolls back on `still_running`
// when some outlive "the longest a request can live"): a generated request's life is not bounded by its attempts'
// timeouts and our backoff alone. A 429's retry-after is honoured up to 60 s (DESIGN.md), so under a rate limit a
// healthy request sleeps past that bound, and a healthy green was rolled back (exit 10, still_running) instead of
// promoted. A scripted upstream on 127.0.0.1 answers every fourth request 429 asking for 3 s; the rest answer well.
import { createServer } from 'node:http';
import { expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { listenForTest } from '../helpers/loopback.js';
import { tempDir, writePlan } from '../helpers/plans.js';
import { readState } from '../e2e/helpers.js';

/** Its `127.0.0.1:port`. */
async function rateLimitedUpstream(): Promise<string> {
  let requests = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url?.endsWith('/models')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ object: 'list', data: [{ id: 'blue-m' }, { id: 'green-m' }] }));
      }
      const limited = ++requests % 4 === 0;
      res.writeHead(limited ? 429 : 200, { 'content-type': 'application/json', ...(limited && { 'retry-after-ms': '3000' }) });
      res.end(
        JSON.stringify(
          limited
            ? { error: { message: 'rate limited', type: 'rate_limit_error' } }
            : {
                id: 'r',
                object: 'chat.completion',
                choices: [{ index: 0, message: { role: 'assistant', content: 'a perfectly good answer' }, finish_reason: 'stop' }],
                usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 },
              },
        ),
      );
    });
  });
  return listenForTest(server);
}

it("promotes a healthy green whose requests sleep out a 429's retry-after past the attempts' timeouts at the last stage's end", async () => {
  const upstream = await rateLimitedUpstream();
  const dir = tempDir();
  // Each attempt's limit 1 s and one retry after at most 50 ms of our backoff: 2.05 s without the server's wait (3 s).
  // Not 300 ms: the upstream answers from this process, and on a loaded machine a stall of it past 300 ms timed out
  // both attempts of healthy requests, enough of them to fail the error rate.
  writePlan(
    `name: rate-limited
upstream: { base_url: "http://${upstream}/v1", api_key_env: R17_KEY, timeout: { connect: 1s, request: 1s }, retries: { max: 1, base_delay: 50ms, max_delay: 50ms } }
blue: { model: blue-m }
green: { model: green-m }
traffic: { rate: 20, synthetic: { prompts: [hello there, how are you] } }
stages:
  - { duration: 1s, green_weight: 0.5 }
  - { duration: 1s, green_weight: 1 }
analysis: { interval: 200ms, min_requests: 3, thresholds: { error_rate: 0.5 } }
`,
    dir,
  );
  const { code, stderr } = await runCli(['rollout', 'plan.yaml', '--plain'], { cwd: dir, env: { R17_KEY: 'k' } });
  expect(stderr).not.toContain('still_running');
  expect(code, stderr).toBe(0);
  expect(readState(dir)).toMatchObject({ phase: 'promoted' });
});
