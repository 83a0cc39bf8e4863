// Exported defaults are shared by every caller: changing what one caller got must not change the next one's.
import { describe, expect, it } from 'vitest';
import { simConfig } from '../../src/cli/commands/sim.js';
import { deepFreeze } from '../../src/core/frozen.js';
import { EXIT } from '../../src/core/exit.js';
import { FINAL_PHASES } from '../../src/engine/types.js';
import { PHASE_LABELS } from '../../src/report/ink/header-lines.js';
import { RULE_LABELS } from '../../src/report/ink/check-lines.js';
import { VERDICT_TONES } from '../../src/report/ink/stage-table.js';
import { ENTRY_ORDER } from '../../src/proxy/feed-layout.js';
import { DEFAULT_LIMITS } from '../../src/sim/budget.js';
import { DEFAULT_PROFILE, profileAt } from '../../src/sim/profile.js';
import { resolveAdaptation } from '../../src/upstream/adapt.js';

describe('shared defaults', () => {
  it('profileAt hands out its own nested objects: changing them leaves the next profile on the defaults', () => {
    const first = profileAt({}, 0);
    first.latency.p50 = 1;
    first.outputTokens.max = 1;
    expect(profileAt({}, 0)).toMatchObject({ latency: { p50: 250, p95: 800 }, outputTokens: { min: 20, max: 120 } });
    expect(DEFAULT_PROFILE.latency.p50).toBe(250);
  });

  it("simConfig without --config hands out a copy of the built-in config: changing it leaves the next caller's alone", () => {
    const first = simConfig({}, '.');
    const gpt4o = first.models['gpt-4o'];
    if (gpt4o === undefined) throw new Error('the built-in config lost gpt-4o');
    gpt4o.error_rate = 1;
    first.models.extra = {};
    if (first.default?.latency) first.default.latency.p50 = 1;
    const next = simConfig({}, '.');
    expect(next.models['gpt-4o']?.error_rate).toBe(0.005);
    expect(Object.keys(next.models)).toEqual(['gpt-4o', 'gpt-4.1', 'claude-sonnet-4']);
    expect(next.default).toEqual({ latency: { p50: 250, p95: 800 } });
  });

  it('resolveAdaptation without settings gives a fresh set each time', () => {
    const first = resolveAdaptation('gpt-4o');
    (first.set as Record<string, unknown>).temperature = 2;
    (first.drop as Set<string>).add('top_p');
    expect(resolveAdaptation('gpt-4o')).toMatchObject({ set: {}, drop: new Set() });
  });

  it('the exported defaults are frozen all the way down, so a JavaScript caller cannot change them either', () => {
    for (const value of [DEFAULT_PROFILE, DEFAULT_PROFILE.latency, DEFAULT_PROFILE.outputTokens, DEFAULT_LIMITS, EXIT, FINAL_PHASES]) {
      expect(Object.isFrozen(value)).toBe(true);
    }
    // ESM is strict mode: writing to a frozen object throws instead of being ignored.
    expect(() => Object.assign(DEFAULT_PROFILE.latency, { p50: 1 })).toThrow(TypeError);
    expect(() => (FINAL_PHASES as string[]).push('starting')).toThrow(TypeError);
    expect(DEFAULT_LIMITS).toEqual({ requestsPerMinute: 10_000, tokensPerMinute: 2_000_000 });
  });

  it('deepFreeze freezes nested objects and arrays, and leaves functions callable', () => {
    const value = deepFreeze({ a: { b: [1, { c: 2 }] }, f: () => 3 });
    expect(Object.isFrozen(value.a.b)).toBe(true);
    expect(Object.isFrozen(value.a.b[1])).toBe(true);
    expect(value.f()).toBe(3);
  });

  it('the type system refuses writes to the shared tables (checked by npm run typecheck, never run)', () => {
    const writes = (): void => {
      // @ts-expect-error DEFAULT_PROFILE is deeply read-only
      DEFAULT_PROFILE.latency.p50 = 1;
      // @ts-expect-error DEFAULT_LIMITS is read-only
      DEFAULT_LIMITS.requestsPerMinute = 1;
      // @ts-expect-error EXIT is read-only
      EXIT.promoted = 1;
      // @ts-expect-error RULE_LABELS is read-only
      RULE_LABELS.hook = 'x';
      // @ts-expect-error VERDICT_TONES is read-only
      VERDICT_TONES.passed = 'bad';
      // @ts-expect-error PHASE_LABELS' entries are read-only
      PHASE_LABELS.promoted.text = 'x';
      // @ts-expect-error ENTRY_ORDER is read-only
      ENTRY_ORDER.push('x');
      // @ts-expect-error FINAL_PHASES is read-only
      FINAL_PHASES.push('starting');
    };
    expect(typeof writes).toBe('function');
  });
});
