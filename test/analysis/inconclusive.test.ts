// What a stage does at its end with rules undecided: the plan's on_inconclusive, as a pure decision.
import { describe, expect, it } from 'vitest';
import { decideStageEnd } from '../../src/analysis/index.js';
import type { CheckResult } from '../../src/analysis/index.js';

const check = (rule: CheckResult['rule'], status: CheckResult['status'], unit: CheckResult['unit'] = 'ratio'): CheckResult => ({
  rule,
  status,
  figure: 0,
  limit: 0.05,
  unit,
  sample: 10,
  proximity: null,
});

describe('decideStageEnd', () => {
  const undecided = [check('consecutive_errors', 'ok', 'count'), check('error_rate', 'undecided'), check('latency_p95', 'waiting', 'ms')];

  it('passes when every rule is decided, whatever the setting', () => {
    const decided = [check('error_rate', 'ok'), check('consecutive_errors', 'ok', 'count'), check('health_check', 'ok', 'count')];
    for (const on_inconclusive of ['pass', 'extend', 'pause'] as const) {
      expect(decideStageEnd(decided, { on_inconclusive, max_extensions: 2 }, 0)).toEqual({ action: 'pass', undecided: [] });
    }
  });

  it('names undecided and still-waiting rate rules; streak rules are never undecided', () => {
    expect(decideStageEnd(undecided, { on_inconclusive: 'pass', max_extensions: 2 }, 0)).toEqual({ action: 'pass', undecided: ['error_rate', 'latency_p95'] });
  });

  it('extends up to max_extensions times, then passes', () => {
    const config = { on_inconclusive: 'extend', max_extensions: 2 } as const;
    expect(decideStageEnd(undecided, config, 0)).toMatchObject({ action: 'extend', extension: 1 });
    expect(decideStageEnd(undecided, config, 1)).toMatchObject({ action: 'extend', extension: 2 });
    expect(decideStageEnd(undecided, config, 2)).toMatchObject({ action: 'pass' });
  });

  it('pauses once per stage for an operator, then passes after the stage runs again', () => {
    const config = { on_inconclusive: 'pause', max_extensions: 2 } as const;
    expect(decideStageEnd(undecided, config, 0)).toMatchObject({ action: 'pause', undecided: ['error_rate', 'latency_p95'] });
    expect(decideStageEnd(undecided, config, 1)).toMatchObject({ action: 'pass' });
  });
});
