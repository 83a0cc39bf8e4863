import { describe, expect, it } from 'vitest';
import { activeNotice, handleKey, NOTICE_MS, type KeyState } from '../../../src/report/ink/keys.js';

const press = (state: KeyState, input: string, extra: { ctrl?: boolean; escape?: boolean } = {}) => handleKey(state, { input, ...extra }, 'control', 1000);

describe('dashboard keys (control)', () => {
  it('maps p, r and a straight to commands', () => {
    expect(press({}, 'p').command).toBe('pause');
    expect(press({}, 'r').command).toBe('resume');
    expect(press({}, 'a').command).toBe('abort');
    expect(press({}, 'x').command).toBeUndefined();
  });

  it('asks before promoting (P) and before quitting (q)', () => {
    const asked = press({}, 'P');
    expect(asked.command).toBeUndefined();
    expect(asked.state.prompt).toBe('promote');
    const confirmed = press(asked.state, 'y');
    expect(confirmed.command).toBe('promote');
    expect(confirmed.state.prompt).toBeUndefined();
    const quit = press({}, 'q');
    expect(quit.state.prompt).toBe('quit');
    expect(press(quit.state, 'Y').command).toBe('abort');
  });

  it('cancels a prompt with n or escape, ignores other keys while asking', () => {
    const asked = press({}, 'P').state;
    expect(press(asked, 'n')).toEqual({ state: { notice: { text: 'promotion cancelled', at: 1000 } } });
    expect(press(asked, '', { escape: true }).command).toBeUndefined();
    expect(press(asked, '', { escape: true }).state.prompt).toBeUndefined();
    expect(press(asked, 'a')).toEqual({ state: asked });
  });

  it('lets ctrl-c interrupt at any time, even while asking', () => {
    expect(press({}, 'c', { ctrl: true }).command).toBe('interrupt');
    expect(press({ prompt: 'promote' }, 'c', { ctrl: true }).command).toBe('interrupt');
    expect(press({}, 'c').command).toBeUndefined();
  });

  it('shows a notice for a few seconds', () => {
    const { state } = press({}, 'p');
    expect(activeNotice(state, 1000 + NOTICE_MS)).toBe('pause requested');
    expect(activeNotice(state, 1001 + NOTICE_MS)).toBeUndefined();
  });
});

describe('dashboard keys (watch)', () => {
  it('only quits: q stops watching, ctrl-c interrupts, controls do nothing', () => {
    expect(handleKey({}, { input: 'q' }, 'watch', 0).command).toBe('quit');
    expect(handleKey({}, { input: 'c', ctrl: true }, 'watch', 0).command).toBe('interrupt');
    for (const input of ['p', 'r', 'P', 'a', 'y']) expect(handleKey({}, { input }, 'watch', 0).command).toBeUndefined();
  });
});

describe('dashboard keys while the rollout is ending', () => {
  it('asks nothing and sends nothing but ctrl-c, saying the rollout is already ending', () => {
    for (const input of ['p', 'r', 'P', 'a', 'q']) {
      const result = handleKey({}, { input }, 'control', 0, true);
      expect(result.command).toBeUndefined();
      expect(result.state).toEqual({ notice: { text: 'already ending: no key changes it now', at: 0 } });
    }
    // A question asked just before the ending began is dropped rather than confirmed.
    expect(handleKey({ prompt: 'quit' }, { input: 'y' }, 'control', 0, true).command).toBeUndefined();
    expect(handleKey({}, { input: 'c', ctrl: true }, 'control', 0, true)).toEqual({
      state: { notice: { text: 'ending: in-flight wait skipped', at: 0 } },
      command: 'interrupt',
    });
    expect(handleKey({}, { input: 'x' }, 'control', 0, true)).toEqual({ state: {} });
  });
});
