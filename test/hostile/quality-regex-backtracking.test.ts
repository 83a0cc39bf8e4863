// hostile36: the quality checks run on every answer, whose text a client's prompt steers. A plan's
// quality.regex such as ^(\w+\s?)+$ took V8's backtracking engine exponential time on an ordinary answer ending in a
// full stop, and the json check's fence pattern quadratic time on an opened fence followed by a run of spaces (JSON
// mode's known failure): the proxy, stuck in one match, answered nothing more, blue's requests and /healthz
// included. The proxy runs as its own process here, so such a hang fails a test (its timeout), not the test process.
import { spawn } from 'node:child_process';
import { expect, it } from 'vitest';
import { BIN } from '../e2e/helpers.js';
import { tempDir, writePlan } from '../helpers/plans.js';
import { until } from '../helpers/until.js';
import { openAiCompletion, scriptedPlan, scriptedServer, UPSTREAM_KEY } from '../proxy/helpers.js';
import { proxyPorts } from '../live/helpers.js';
import { killAfterTest } from '../helpers/processes.js';

/** `bluegreen proxy` (its own process) in front of an upstream giving every request `answer`; its base URL. */
async function proxyAnswering(answer: string, quality: string): Promise<string> {
  const upstream = await scriptedServer((req, res, body) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    if (req.method === 'GET') return void res.end(JSON.stringify({ object: 'list', data: [{ id: 'blue-model' }, { id: 'green-model' }] }));
    res.end(openAiCompletion((JSON.parse(body) as { model: string }).model, answer));
  });
  const dir = tempDir();
  writePlan(`${scriptedPlan(upstream.url, { proxy: '{}' })}analysis: { quality: ${quality} }\n`, dir);
  const { listen } = await proxyPorts();
  const child = spawn(process.execPath, [BIN, 'proxy', 'plan.yaml', '--listen', `127.0.0.1:${listen}`, '--state-dir', dir], {
    cwd: dir,
    env: { PATH: process.env.PATH, UPSTREAM_KEY },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  killAfterTest(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await until(() => stderr.includes('listening on') || child.exitCode !== null, 'the proxy to start');
  expect(stderr).toContain('listening on');
  return `http://127.0.0.1:${listen}`;
}

/** One answer failing the checks is judged so (a quality failure of blue's), and the proxy goes on serving. */
async function judgedAndServing(base: string, answerPart: string): Promise<void> {
  const ask = () =>
    fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'blue-model', messages: [{ role: 'user', content: 'when does it ship?' }] }),
    });
  const first = await ask();
  expect(first.status).toBe(200);
  // includes, not toContain: a failing toContain's message over a 2 MB answer took vitest minutes.
  expect((await first.text()).includes(answerPart)).toBe(true);
  await until(async () => {
    const metrics = await (await fetch(`${base}/metrics`)).text();
    return /bluegreen_proxy_quality_failures_total\{arm="blue"\} 1\b/.test(metrics);
  }, 'the answer to be judged');
  expect((await ask()).status).toBe(200);
  expect((await fetch(`${base}/healthz`)).status).toBe(200);
}

it('a quality regex that backtracks exponentially on an answer does not stop the proxy: the answer is judged and the next request served', async () => {
  // 40 words before the full stop: far past any time a backtracking match could take.
  const base = await proxyAnswering(`${'Your order ships within three working days '.repeat(6)}thanks.`, "{ regex: '^(\\w+\\s?)+$' }");
  await judgedAndServing(base, 'thanks.');
});

it('an answer opening a JSON fence and then spaces without end does not stop the proxy checking json', async () => {
  // 2 MB of spaces: hours of the fence regex's quadratic time; an unclosed fence is not JSON.
  const base = await proxyAnswering(`\`\`\`json\n{"eta": "3 days"${' '.repeat(2_000_000)}`, '{ json: true }');
  await judgedAndServing(base, '3 days');
});
