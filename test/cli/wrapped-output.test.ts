// validate and rollout --dry-run in a terminal: long lines (the judgement, the cost) break between words at its
// width, each continuation indented under its line's text, as status's do; piped, every line stays whole for a script.
// Found in session 35's user test: at 80 columns the 378-character judgement line ran on, cut mid-word by the terminal.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { testContext } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';

const DEMO = path.resolve('rollouts/demo.yaml');
const JUDGEMENT = /^ {2}analysis every 1\.00s, at most 1% false rollbacks/;

async function run(args: string[], columns?: number): Promise<{ code: number; lines: string[] }> {
  const ctx = testContext({ cwd: process.cwd(), tty: columns !== undefined });
  if (columns !== undefined) Object.assign(ctx.stdout, { columns });
  const code = await main(['node', 'bluegreen', ...args], ctx);
  return { code, lines: ctx.out().trimEnd().split('\n') };
}

describe.each([
  ['validate', ['validate', DEMO]],
  ['rollout --dry-run', ['rollout', DEMO, '--dry-run', '--state-dir', path.join(tempDir(), 'st')]],
])('%s', (_name, args) => {
  it('in an 80-column terminal: no line past 80 columns, the judgement broken between words under its indent', async () => {
    const { code, lines } = await run(args, 80);
    expect(code).toBe(0);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
    const at = lines.findIndex((line) => JUDGEMENT.test(line));
    expect(at).toBeGreaterThanOrEqual(0);
    // Its continuation lines start 4 spaces in (its own indent plus 2), and no word is cut.
    const next = lines[at + 1] ?? '';
    expect(next).toMatch(/^ {4}\S/);
    const whole = await run(args);
    const judgement = whole.lines.find((line) => JUDGEMENT.test(line)) ?? '';
    const after = lines.slice(at + 1);
    const end = after.findIndex((line) => !/^ {4}\S/.test(line));
    const continued = end === -1 ? after : after.slice(0, end);
    const rejoined = [lines[at]!, ...continued].map((line) => line.trim()).join(' ');
    expect(rejoined).toBe(judgement.trim());
  });

  it('piped: each line whole, the judgement on one line (a script greps it)', async () => {
    const { code, lines } = await run(args);
    expect(code).toBe(0);
    expect(lines.filter((line) => JUDGEMENT.test(line))).toHaveLength(1);
    expect(Math.max(...lines.map((line) => line.length))).toBeGreaterThan(200);
  });
});
