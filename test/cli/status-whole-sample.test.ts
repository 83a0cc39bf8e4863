// A breach's reason quotes green's upstream message cut at 120 characters; the dashboard says "the whole reason:
// bluegreen status". status shows that message whole, from the warning event its first such failure wrote, also
// when a long rollout's later events pushed it out of state.json's recent ones (it is then read from the journal).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { blame } from '../../src/analysis/blame.js';
import { firstFailureReporter } from '../../src/engine/first-errors.js';
import type { RolloutEvent } from '../../src/engine/types.js';
import { emptyArmStats } from '../../src/metrics/index.js';
import { buildDashboardView } from '../../src/report/ink/view-model.js';
import { lineText } from '../../src/report/ink/view-types.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';
import { snapshot } from '../state/helpers.js';

const UPSTREAM =
  'green arm: 400 from https://llm-gateway.internal.example.com/openai/deployments/gpt-4-1/chat/completions (The model produced invalid content. Consider modifying your prompt if you are seeing this error persistently.)';

/** The warning the engine journals for green's first server_error, and the reason a breach then gives. */
function breach(): { warning: RolloutEvent; reason: string } {
  const said: string[] = [];
  firstFailureReporter((message) => said.push(message))('green', {
    arm: 'green',
    model: 'gpt-4.1',
    ok: false,
    failure: 'server_error',
    status: 400,
    content: '',
    errorMessage: UPSTREAM,
    latencyMs: 10,
    attempts: 1,
    stream: false,
  });
  const green = {
    ...emptyArmStats(),
    requests: 20,
    failures: 12,
    failuresByClass: { server_error: 12 },
    failureSamples: { server_error: UPSTREAM.slice(0, 200) },
  };
  const reason = `green error_rate 60.0% > 5.0% over 20 requests in stage 1${blame(green, emptyArmStats())}`;
  return { warning: { at: 1_700_000_000_500, type: 'warning', message: said[0]! }, reason };
}

function folder(recentEvents: RolloutEvent[], journal: RolloutEvent[]): string {
  const { reason } = breach();
  const cwd = tempDir();
  mkdirSync(path.join(cwd, 'st'));
  const state = snapshot({ phase: 'rolled_back', greenWeight: 0, endedAt: 1_700_000_002_000, exitCode: 10, reason, recentEvents });
  writeFileSync(path.join(cwd, 'st', 'state.json'), JSON.stringify(state));
  writeFileSync(path.join(cwd, 'st', 'events.jsonl'), journal.map((e) => `${JSON.stringify(e)}\n`).join(''));
  return cwd;
}

describe("status and a reason quoting green's upstream message cut", () => {
  it('shows the message whole under the reason, from the recent events or else the journal', async () => {
    const { warning, reason } = breach();
    expect(reason).toContain('(server_error: "green arm: 400 from https://llm-gateway');
    expect(reason).toMatch(/…"\)$/);
    // fixb33: the arm said once, in the lead ("on the green arm: green arm: 400 ..." said it twice).
    const said = UPSTREAM.slice('green arm: '.length);
    expect(warning.message).toBe(`first server_error on the green arm: ${said}`);
    const whole = `  green's first server_error, whole: ${said}`;
    const recent = await runCli(['status', '--state-dir', 'st'], { cwd: folder([warning], [warning]) });
    expect(recent.stdout.split('\n')).toContain(whole);
    // A warning an older version wrote, the arm twice: found all the same.
    const older: RolloutEvent = { ...warning, message: `first server_error on the green arm: ${UPSTREAM}` };
    const fromOlder = await runCli(['status', '--state-dir', 'st'], { cwd: folder([older], [older]) });
    expect(fromOlder.stdout.split('\n')).toContain(whole);
    // 30 later events: state.json no longer has it, the journal does.
    const later = Array.from({ length: 30 }, (_, i): RolloutEvent => ({
      at: warning.at + i + 1,
      type: 'health_check_recovered',
      message: `health check ${i} passed`,
    }));
    const pushedOut = await runCli(['status', '--state-dir', 'st'], { cwd: folder(later, [warning, ...later]) });
    expect(pushedOut.stdout.split('\n')).toContain(whole);
    // Nowhere to be found (a journal cut short): nothing made up.
    const none = await runCli(['status', '--state-dir', 'st'], { cwd: folder(later, later) });
    expect(none.stdout).not.toContain('whole:');
  });

  it("has the dashboard point there even when the reason's two lines hold it all: its quote is cut", () => {
    const { reason } = breach();
    const ended = snapshot({ phase: 'rolled_back', greenWeight: 0, endedAt: 1_700_000_002_000, exitCode: 10, reason });
    const footer = buildDashboardView(ended, {
      now: ended.endedAt!,
      steadyNow: 0,
      columns: 200,
      rows: 40,
      mode: 'control',
      keys: {},
      final: { exitCode: 10, reason },
    });
    expect(footer.footer.map(lineText)[0]).toBe('■ ROLLED BACK · exit 10 · the whole reason: bluegreen status');
  });
});
