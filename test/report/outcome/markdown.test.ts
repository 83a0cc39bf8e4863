import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendStepSummary, buildReport, renderMarkdownSummary } from '../../../src/report/outcome/index.js';
import { md } from '../../../src/report/outcome/markdown.js';
import { tempDir } from '../../helpers/plans.js';
import { loadTestPlan, promotedSnapshot, rolledBackSnapshot } from './fixtures.js';

const plan = loadTestPlan();
const rolledBack = buildReport({ snapshot: rolledBackSnapshot(plan), plan, version: '1' });
const promoted = buildReport({ snapshot: promotedSnapshot(plan), plan, version: '1' });

describe('renderMarkdownSummary', () => {
  const text = renderMarkdownSummary(rolledBack);

  it('states the outcome in words, with the reason', () => {
    expect(text.startsWith('## bluegreen: ROLLED BACK\n')).toBe(true);
    expect(text).not.toContain('**Reason**');
    expect(text).toMatch(/\*\*Outcome\*\* exit 10: green error\\_rate 31\.\d% \(at least 8\.3%, 99\.93% sure\) \\> 5\.0% over 48 requests in stage 3/);
    expect(renderMarkdownSummary(promoted).startsWith('## bluegreen: PROMOTED\n')).toBe(true);
    expect(text).not.toMatch(/\p{Extended_Pictographic}/u);
  });

  it('has a per-stage table with both arms, and one row for each stage not run', () => {
    const table = text.split('### Stages')[1]!.split('###')[0]!.trim().split('\n');
    expect(table[0]).toBe('| Stage | Green | Verdict | Arm | Requests | Errors | Error rate | p95 | Cost |');
    // header, separator, 3 stages x 2 arms, 2 stages not run
    expect(table).toHaveLength(2 + 6 + 2);
    expect(table).toContain('| 3 | 50% | failed | blue | 144 | 2 | 1.4% | 800ms | $0.242 |');
    expect(table).toContain('|  |  |  | green | 48 | 15 | 31.3% | 900ms | $0.051 |');
    // One number of decimals for the cost column: stage 1's $0.016 needs three, so $1.832 has three too (was
    // "$1.83" above "$0.02").
    expect(table).toContain('| 1 | 10% | passed | blue | 1,080 | 3 | 0.28% | 800ms | $1.832 |');
    expect(table).toContain('|  |  |  | green | 12 | 0 | 0.0% | 900ms | $0.016 |');
    expect(table).toContain('| 4 | 75% | skipped | not run |  |  |  |  |  |');
  });

  it('lists the checks of the deciding stage and compares cost per 1k requests', () => {
    expect(text).toContain('### Checks in stage 3');
    expect(text).toMatch(/\| `error_rate` \| \*\*breach\*\* \| 31\.\d% \| 5\.0% \| \(bounds 8\.3–66\.0%, each 99\.93% sure\) \| 48 \|/);
    expect(text).toContain('| Arm | Model | Requests | Prompt tokens | Completion tokens | Cost | Per 1k requests |');
    expect(text).toMatch(/\| green \| `gpt-4\.1` \| 360 \|/);
    expect(text).toMatch(/Per 1k requests, green is \d+\.\d% cheaper than blue\./);
  });

  it('escapes plan text so it cannot break a table or inject HTML', () => {
    expect(md('a|b <script> *x* [l](u)\nnext')).toBe('a\\|b \\<script\\> \\*x\\* \\[l\\](u) next');
    const awkward = loadTestPlan('pipes | and <b>bold</b>');
    const summary = renderMarkdownSummary(buildReport({ snapshot: rolledBackSnapshot(awkward), plan: awkward, version: '1' }));
    expect(summary).toContain('**Plan** pipes \\| and \\<b\\>bold\\</b\\>');
  });
});

describe('appendStepSummary', () => {
  it('appends to $GITHUB_STEP_SUMMARY, keeping what earlier steps wrote', () => {
    const file = path.join(tempDir(), 'step_summary.md');
    writeFileSync(file, '# Earlier step\nits text');
    const env = { GITHUB_STEP_SUMMARY: file };
    expect(appendStepSummary(env, renderMarkdownSummary(rolledBack))).toBe(true);
    expect(appendStepSummary(env, renderMarkdownSummary(promoted))).toBe(true);
    const written = readFileSync(file, 'utf8');
    expect(written.startsWith('# Earlier step\nits text\n## bluegreen: ROLLED BACK\n')).toBe(true);
    expect(written).toContain('\n## bluegreen: PROMOTED\n');
    expect(written.endsWith('\n')).toBe(true);
  });

  it('does nothing when the variable is not set', () => {
    expect(appendStepSummary({}, 'text')).toBe(false);
    expect(appendStepSummary({ GITHUB_STEP_SUMMARY: '' }, 'text')).toBe(false);
  });

  it('says why when the file cannot be written', () => {
    const file = path.join(tempDir(), 'missing', 'summary.md');
    expect(() => appendStepSummary({ GITHUB_STEP_SUMMARY: file }, 'text')).toThrow(
      `cannot append the summary to $GITHUB_STEP_SUMMARY (${file}): the folder ${path.dirname(file)} does not exist`,
    );
  });
});
