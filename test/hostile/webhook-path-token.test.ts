// Slack (`/services/T…/B…/<token>`), Discord (`/api/webhooks/<id>/<token>`) and many other webhooks carry their
// token in the URL's path: it was shown whole (origin and path kept) in hook messages, the journal, state.json and
// every report. A rollout whose hooks call such URLs on a real receiver must leave none of the token anywhere.
import http from 'node:http';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runHook, safeUrl, type HookEvent } from '../../src/hooks/index.js';
import { runCli } from '../helpers/cli.js';
import { listenForTest } from '../helpers/loopback.js';
import { simulatedPlan, tempDir } from '../helpers/plans.js';

const SLACK = '/services/T0ABCD1234/B0EFGH5678/xq7Lw2PzR9kT4mVb8NcY3dHs';
const SLACK_TOKEN = 'xq7Lw2PzR9kT4mVb8NcY3dHs';
const DISCORD = '/api/webhooks/1183742098571234567/Zk9_aQ-3vLx7TbM2pWq8RnYc4HdFs6GjK1eU0oIiPlA5';
const DISCORD_TOKEN = 'Zk9_aQ-3vLx7TbM2pWq8RnYc4HdFs6GjK1eU0oIiPlA5';
const EVENT: HookEvent = { event: 'stage', plan: 'demo', stage: 1, stages: 2, greenWeight: 0.5, blueModel: 'a', greenModel: 'b', at: 0 };

/** A receiver quoting the path it was called on: failing on Slack's path (so the stage fails), answering 200 otherwise. */
async function echoingReceiver(): Promise<{ base: string; calls: string[] }> {
  const calls: string[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    calls.push(req.url ?? '');
    const failing = (req.url ?? '').startsWith('/services/');
    res.writeHead(failing ? 500 : 200).end(`no such hook ${req.url ?? ''} at http://${req.headers.host ?? ''}${req.url ?? ''}`);
  });
  return { base: `http://${await listenForTest(server)}`, calls };
}

/** Any 6 characters in a row of the token. */
function tokenPieces(token: string): string[] {
  const pieces: string[] = [];
  for (let i = 0; i + 6 <= token.length; i++) pieces.push(token.slice(i, i + 6));
  return pieces;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

describe('a token in a webhook URL path', () => {
  it('safeUrl keeps the origin and the shape, not the ids and tokens', () => {
    expect(safeUrl(`https://hooks.slack.com${SLACK}`)).toBe('https://hooks.slack.com/services/…/…/…');
    expect(safeUrl(`https://discord.com${DISCORD}`)).toBe('https://discord.com/api/webhooks/…/…');
    expect(safeUrl('https://x.webhook.office.com/webhookb2/0f1e2d3c-aaaa@bbbb/IncomingWebhook/9a8b7c6d5e4f/0f1e')).toBe(
      'https://x.webhook.office.com/webhookb2/…/IncomingWebhook/…/…',
    );
    // Words and versions stay: an ordinary receiver's URL reads as written.
    expect(safeUrl('http://127.0.0.1:8080/api/v1/set-weight?token=T')).toBe('http://127.0.0.1:8080/api/v1/set-weight');
  });

  it("a webhook answering with its URL's path keeps none of the token in its message", async () => {
    const { base } = await echoingReceiver();
    const outcome = await runHook({ webhook: `${base}${SLACK}`, timeout: 5000, retries: 0 }, EVENT, { cwd: '/', env: {} });
    expect(outcome.ok).toBe(false);
    expect(outcome.message).toContain(`webhook ${base}/services/…/…/… answered 500: no such hook`);
    for (const piece of tokenPieces(SLACK_TOKEN)) expect(outcome.message).not.toContain(piece);
  });

  it('an exec hook calling such a URL shows it the same way, in its label and its output', async () => {
    const { base } = await echoingReceiver();
    const command = `echo "posting to ${base}${DISCORD}" >&2; exit 4`;
    const outcome = await runHook({ exec: command, timeout: 5000, retries: 0 }, EVENT, { cwd: '/', env: { PATH: process.env.PATH } });
    expect(outcome.message).toContain(`${base}/api/webhooks/…/…`);
    for (const piece of tokenPieces(DISCORD_TOKEN)) expect(JSON.stringify({ ...outcome, stdout: '', stderr: '' })).not.toContain(piece);
  });

  it('a rollout calling Slack- and Discord-shaped hooks leaves neither token in output, state, journal or reports', async () => {
    const { base, calls } = await echoingReceiver();
    const dir = tempDir('bluegreen-webhook-path-');
    const plan = `${simulatedPlan('hooked', '1s', 0.5)}hooks:
  on_stage: { webhook: "${base}${SLACK}", retries: 0 }
  on_rollback: { exec: 'echo "posted to $(cat hook-url.txt)" >&2; exit 1' }
  on_abort: { webhook: "${base}${DISCORD}", retries: 0 }
`;
    writeFileSync(path.join(dir, 'plan.yaml'), plan);
    // The on_rollback hook prints a webhook URL of the plan's that its command does not hold: only the redactor knows it.
    writeFileSync(path.join(dir, 'hook-url.txt'), `${base}${DISCORD}`);
    const summary = path.join(dir, 'summary.md');
    const env = { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, CI: 'true' };
    const validate = await runCli(['validate', 'plan.yaml'], { cwd: dir, env });
    const dry = await runCli(['rollout', 'plan.yaml', '--dry-run', '--state-dir', 'st'], { cwd: dir, env });
    const rollout = await runCli(['rollout', 'plan.yaml', '--plain', '--state-dir', 'st', '--report-json', 'r.json', '--junit', 'r.xml'], { cwd: dir, env });
    expect(rollout.code, rollout.stderr).toBe(10);
    const status = await runCli(['status', '--json', '--state-dir', 'st'], { cwd: dir, env });
    // The hook was called on its real path, and its failure was said (by shape), the other hook's output redacted.
    expect(calls).toEqual([SLACK]);
    expect(rollout.stdout + rollout.stderr).toContain(`${base}/services/…/…/…`);
    expect(rollout.stdout + rollout.stderr).toMatch(/on_rollback hook: exec .* exited 1: posted to .*\[redacted\]/);

    const files = filesUnder(dir).filter((file) => !file.endsWith('plan.yaml') && !file.endsWith('hook-url.txt'));
    expect(files.map((f) => path.relative(dir, f))).toEqual(expect.arrayContaining(['r.json', 'r.xml', 'summary.md', 'st/state.json', 'st/events.jsonl']));
    const texts = [
      ...[validate, dry, rollout, status].flatMap((run, i) => [
        { where: `run ${i} stdout`, text: run.stdout },
        { where: `run ${i} stderr`, text: run.stderr },
      ]),
      ...files.map((file) => ({ where: path.relative(dir, file), text: readFileSync(file, 'utf8') })),
    ];
    const pieces = [...tokenPieces(SLACK_TOKEN), ...tokenPieces(DISCORD_TOKEN)];
    const leaks = texts.filter(({ text }) => pieces.some((piece) => text.includes(piece))).map(({ where }) => where);
    expect(leaks).toEqual([]);
  });
});
