// Output larger than a pipe's buffer (64 KiB) must arrive whole: the CLI waits for it to drain before exiting.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RolloutSnapshot } from '../../src/engine/types.js';
import { tempDir } from '../helpers/plans.js';
import { loadTestPlan, promotedSnapshot } from '../report/outcome/fixtures.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/bluegreen.js');
/** Reads all of stdin through the pipe and reports its size and whether it was one whole JSON document. */
const READER = `let t='';process.stdin.setEncoding('utf8').on('data',c=>t+=c).on('end',()=>{let ok=true;try{JSON.parse(t)}catch{ok=false}console.log(JSON.stringify({bytes:Buffer.byteLength(t),ok}))})`;

function piped(command: string, cwd: string): { bytes: number; ok: boolean } {
  const shell = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} ${command} | ${JSON.stringify(process.execPath)} -e ${JSON.stringify(READER)}`;
  const result = spawnSync('/bin/sh', ['-c', shell], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH }, timeout: 30_000 });
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as { bytes: number; ok: boolean };
}

/** A finished 40-stage rollout with a long event history: state.json of well over 100 KB. */
function bigSnapshot(): RolloutSnapshot {
  const base = promotedSnapshot(loadTestPlan());
  const stages = Array.from({ length: 40 }, (_, index) => ({ ...(base.stages[index % base.stages.length] as RolloutSnapshot['stages'][number]), index }));
  const planStages = stages.map((_, index) => ({ durationMs: 60_000, greenWeight: Math.min(1, (index + 1) / 40) }));
  const recentEvents = Array.from({ length: 300 }, (_, i) => ({ at: base.startedAt + i, type: 'warning' as const, message: `event ${i}: ${'x'.repeat(200)}` }));
  return { ...base, plan: { ...base.plan, stages: planStages }, stages, recentEvents };
}

describe('output through a pipe', () => {
  it('status --json of a 40-stage rollout arrives whole (over 100 KB)', () => {
    const dir = tempDir('bluegreen-pipe-');
    mkdirSync(path.join(dir, 'st'));
    writeFileSync(path.join(dir, 'st', 'state.json'), `${JSON.stringify(bigSnapshot())}\n`);
    const result = piped('status --json --state-dir st', dir);
    expect(result.bytes).toBeGreaterThan(100_000);
    expect(result.ok).toBe(true);
  });

  it('a reader that goes away early (| head) is no crash', () => {
    const result = spawnSync(
      '/bin/bash',
      ['--norc', '--noprofile', '-c', `set -o pipefail; ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} schema | head -c 10 >/dev/null`],
      { encoding: 'utf8', env: { PATH: process.env.PATH } },
    );
    expect(result.stderr).not.toMatch(/EPIPE|Error|bluegreen/);
    expect(result.status).toBe(0);
  });

  it('bluegreen schema arrives whole', () => {
    const result = piped('schema', tempDir('bluegreen-pipe-'));
    expect(result.bytes).toBeGreaterThan(65_536);
    expect(result.ok).toBe(true);
  });
});
