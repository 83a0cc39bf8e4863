// Opt-in, to see where the suite's time goes: `npx vitest run --reporter=default --reporter=./test/helpers/timing-reporter.ts`
// writes, per test file and slowest first, the milliseconds spent importing it (collect: the file, what it imports,
// its describe callbacks), in its tests and hooks, and in vitest's own preparation, to $TIMING_OUT (default stdout).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

export default class TimingReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const rows = testModules.map((module) => {
      const d = module.diagnostic();
      const parts = [d.prepareDuration + d.environmentSetupDuration + d.setupDuration, d.collectDuration, d.duration];
      return { file: path.relative(process.cwd(), module.moduleId), parts, total: parts.reduce((a, b) => a + b, 0) };
    });
    rows.sort((a, b) => b.total - a.total);
    const sum = (i: number) => rows.reduce((s, r) => s + r.parts[i]!, 0);
    const line = (cells: (number | string)[]) => cells.map((c) => (typeof c === 'number' ? Math.round(c) : c)).join('\t');
    const lines = [line(['total', 'prepare', 'import', 'tests', 'file']), ...rows.map((r) => line([r.total, ...r.parts, r.file]))];
    lines.push(line([sum(0) + sum(1) + sum(2), sum(0), sum(1), sum(2), `(sum of ${rows.length} files)`]));
    const text = `${lines.join('\n')}\n`;
    if (process.env.TIMING_OUT) writeFileSync(process.env.TIMING_OUT, text);
    else process.stdout.write(text);
  }
}
