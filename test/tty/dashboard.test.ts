// The real binary in a real terminal: tmux runs `bluegreen rollout rollouts/demo.yaml`, we read the screen the way
// a person would (capture-pane) and press keys (send-keys). Uses the built dist/ (the suite's global setup builds it when stale).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadPid } from '../state/helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const HAS_TMUX = spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;
const SOCKET = `bluegreen-tty-${process.pid}`;

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, '-f', '/dev/null', ...args], { encoding: 'utf8' });
}

function screen(target: string, escapes = false): string {
  return tmux('capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', target);
}

// The waits' deadlines are until()'s (test/helpers/until.ts): they only bound a hang. Each step here starts a `node`
// process in tmux, which takes seconds of CPU on a loaded machine; 15 s was short of what until() allows such a step.
const WAIT_MS = 30_000;

/** Polls the screen (the terminal is the only event there is) until `ready` holds, or fails showing the screen. */
async function waitForScreen(target: string, what: string, ready: (text: string) => boolean, timeoutMs = WAIT_MS): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  let last = '';
  while (performance.now() < deadline) {
    try {
      last = screen(target);
      if (ready(last)) return last;
    } catch {
      // the pane may not exist yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}; the screen was:\n${last}`);
}

async function waitForFile(file: string, what: string, timeoutMs = WAIT_MS): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (existsSync(file)) {
      const text = readFileSync(file, 'utf8').trim();
      if (text) return text;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what} (${file})`);
}

/** A shell command line that runs the CLI as a person would, and keeps the pane open afterwards. */
function command(args: string, exitFile: string, env = ''): string {
  const clean = 'env -u CI -u CONTINUOUS_INTEGRATION -u NO_COLOR -u FORCE_COLOR TERM=xterm-256color';
  return `cd '${ROOT}' && ${clean} ${env} node bin/bluegreen.js ${args}; echo $? > '${exitFile}'; sleep 120`;
}

const suite = HAS_TMUX ? describe : describe.skip;
const title = HAS_TMUX
  ? 'dashboard in a real terminal (tmux)'
  : 'dashboard in a real terminal: SKIPPED, tmux is not installed (CI installs it; apt-get install -y tmux)';

suite(title, () => {
  let dir = '';
  const file = (name: string) => path.join(dir, name);

  beforeAll(() => {
    if (!existsSync(path.join(ROOT, 'dist/bundle/main.js')))
      throw new Error('dist/ is missing: run `npm run build` (the global setup of the suite does) before the terminal tests');
    dir = mkdtempSync(path.join(tmpdir(), 'bluegreen-tty-'));
    // Each test starts its own rollout (own simulated upstream, own state folder) in its own tmux session.
  });

  afterAll(() => {
    spawnSync('tmux', ['-L', SOCKET, 'kill-server'], { stdio: 'ignore' });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the plan, stage 1/5, both percentages and a row per stage; counts move; `a` rolls back with exit 4; status --watch follows it', async () => {
    tmux(
      'new-session',
      '-d',
      '-s',
      'main',
      '-x',
      '100',
      '-y',
      '30',
      command(`rollout rollouts/demo.yaml --state-dir '${file('main-state')}'`, file('main-exit')),
    );
    const first = await waitForScreen(
      'main',
      'the dashboard',
      (text) =>
        text.includes('demo-gpt-4o-to-gpt-4.1') &&
        text.includes('stage 1/5') &&
        /blue gpt-4o 90% .* 10% gpt-4\.1 green/.test(text) &&
        /^▶1 +10% running +[1-9]/m.test(text),
    );
    for (const [stage, weight] of [
      [1, 10],
      [2, 25],
      [3, 50],
      [4, 75],
      [5, 100],
    ])
      expect(first).toMatch(new RegExp(`^[ ▶]${stage} +${weight}% `, 'm'));
    expect(first).toContain('p pause');
    for (const line of first.split('\n')) expect([...line.trimEnd()].length).toBeLessThanOrEqual(100);
    // Colours are on in a terminal without NO_COLOR.
    expect(screen('main', true)).toMatch(/\u001b\[[0-9;]*m/);

    // The running stage's blue request count ("stage:count", in case the stage moves on meanwhile).
    const requests = (text: string) => /^▶(\d) +\d+% running +([\d,]+)/m.exec(text)?.slice(1).join(':');
    const before = requests(first);
    const later = await waitForScreen('main', 'the request count to move', (text) => requests(text) !== undefined && requests(text) !== before);
    await waitForScreen('main', 'the checks against thresholds', (text) => /error rate +(-|[\d.]+%) \/ 5\.0%/.test(text));
    expect(later).toContain('rate-limit headroom');

    tmux('new-window', '-t', 'main', '-n', 'watch', command(`status --watch --state-dir '${file('main-state')}'`, file('watch-exit')));
    const watching = await waitForScreen(
      'main:watch',
      'status --watch',
      // The whole frame, footer included: a capture can land while Ink is still writing one.
      (text) => text.includes('bluegreen (watching) · demo-gpt-4o-to-gpt-4.1') && /^▶\d +\d+% running +[1-9]/m.test(text) && text.includes('read-only'),
    );
    expect(watching).not.toContain('p pause');

    tmux('send-keys', '-t', 'main:0', 'a');
    expect(await waitForFile(file('main-exit'), 'the rollout to exit')).toBe('4');
    const last = screen('main:0');
    expect(last).toContain('■ ABORTED · exit 4');
    expect(last).toMatch(/abort requested by .+ \(dashboard\)/);
    expect(await waitForFile(file('watch-exit'), 'status --watch to exit with the rollout')).toBe('4');
    expect(screen('main:watch')).toContain('■ ABORTED · exit 4');
  });

  it('fits 80x24 without colour under NO_COLOR, and q asks before aborting', async () => {
    tmux(
      'new-session',
      '-d',
      '-s',
      'small',
      '-x',
      '80',
      '-y',
      '24',
      command(`rollout rollouts/demo.yaml --state-dir '${file('small-state')}'`, file('small-exit'), 'NO_COLOR=1'),
    );
    const shown = await waitForScreen('small', 'the dashboard at 80x24', (text) => /stage \d\/5/.test(text) && /^▶\d +\d+% running +[1-9]/m.test(text));
    expect(shown).toContain(' # green verdict    req  err  err%   p95   cost    req  err  err%   p95   cost');
    for (const stage of [1, 2, 3, 4, 5]) expect(shown).toMatch(new RegExp(`^[ ▶]${stage} +\\d+% `, 'm'));
    expect(screen('small', true)).not.toMatch(/\u001b\[[0-9;]*m/);
    tmux('send-keys', '-t', 'small', 'q');
    await waitForScreen('small', 'the quit prompt', (text) => text.includes('Quit: abort the rollout and roll back to blue? [y/n]'));
    expect(existsSync(file('small-exit'))).toBe(false);
    tmux('send-keys', '-t', 'small', 'y');
    expect(await waitForFile(file('small-exit'), 'the rollout to exit')).toBe('4');
  });

  it("shows the start's warnings at 80x24 (a dead rollout's lock taken over): on stderr before the dashboard they scrolled away", async () => {
    const stateDir = file('warned-state');
    mkdirSync(stateDir, { recursive: true });
    const pid = await deadPid();
    writeFileSync(path.join(stateDir, 'lock'), JSON.stringify({ pid, planName: 'demo', startedAt: 1, user: 'erin', host: hostname(), token: 'dead' }));
    tmux('new-session', '-d', '-s', 'warned', '-x', '80', '-y', '24', command(`rollout rollouts/demo.yaml --state-dir '${stateDir}'`, file('warned-exit')));
    const said = `took over the lock of pid ${pid}, which is no longer running`;
    const shown = await waitForScreen('warned', 'the dashboard with the warning', (text) => /stage \d\/5/.test(text) && text.includes(said));
    // In the dashboard's events, under its title: not a line on stderr above the dashboard, which its growth scrolls away.
    const lines = shown.split('\n');
    expect(
      lines.findIndex((line) => line.includes(said)),
      shown,
    ).toBeGreaterThan(lines.findIndex((line) => line.startsWith('bluegreen · ')));
    tmux('send-keys', '-t', 'warned', 'C-c');
    expect(await waitForFile(file('warned-exit'), 'the rollout to exit')).toBe('130');
  });

  it('ctrl-c still interrupts: rolled back to blue, exit 130', async () => {
    tmux(
      'new-session',
      '-d',
      '-s',
      'ctrlc',
      '-x',
      '100',
      '-y',
      '30',
      command(`rollout rollouts/demo.yaml --state-dir '${file('ctrlc-state')}'`, file('ctrlc-exit')),
    );
    await waitForScreen('ctrlc', 'the dashboard', (text) => /^▶\d +\d+% running +[1-9]/m.test(text));
    tmux('send-keys', '-t', 'ctrlc', 'C-c');
    expect(await waitForFile(file('ctrlc-exit'), 'the rollout to exit')).toBe('130');
    expect(screen('ctrlc')).toContain('■ INTERRUPTED · exit 130');
  });
});
