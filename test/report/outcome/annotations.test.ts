import { describe, expect, it } from 'vitest';
import { buildReport, escapeData, escapeProperty, githubAnnotation } from '../../../src/report/outcome/index.js';
import { loadTestPlan, promotedSnapshot, rolledBackSnapshot } from './fixtures.js';

const plan = loadTestPlan();

describe('githubAnnotation', () => {
  it('turns a rollback into one ::error line naming the stage and the reason', () => {
    const line = githubAnnotation(buildReport({ snapshot: rolledBackSnapshot(plan), plan, version: '1' }))!;
    expect(
      line.startsWith(
        '::error title=bluegreen rollback::gpt-4o-to-gpt-4.1: rolled back from gpt-4.1 to gpt-4o in stage 3/5 (50%25 green)%0Agreen error_rate 31.',
      ),
    ).toBe(true);
    expect(line).toMatch(
      /%0Agreen error_rate 31\.\d%25 \(at least 8\.3%25, 99\.93%25 sure\) > 5\.0%25 over 48 requests in stage 3; green failures: server_error 15$/,
    );
    expect(line).not.toMatch(/[\r\n]/);
  });

  it('says nothing for a promotion', () => {
    expect(githubAnnotation(buildReport({ snapshot: promotedSnapshot(plan), plan, version: '1' }))).toBeUndefined();
  });

  it('escapes %, CR and LF so a reason cannot end the command or start another', () => {
    const snapshot = rolledBackSnapshot(plan);
    const reason = 'rate 100%\r\n::warning::injected';
    const line = githubAnnotation(buildReport({ snapshot: { ...snapshot, reason }, plan, version: '1' }))!;
    expect(line.endsWith('%0Arate 100%25%0D%0A::warning::injected')).toBe(true);
    expect(line.split('\n')).toHaveLength(1);
  });
});

describe('workflow command escaping', () => {
  it('escapes data and properties as the runner expects', () => {
    expect(escapeData('50% a\r\nb')).toBe('50%25 a%0D%0Ab');
    expect(escapeData('%0A')).toBe('%250A');
    expect(escapeProperty('a: b, c%')).toBe('a%3A b%2C c%25');
  });
});
