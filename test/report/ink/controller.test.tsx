// The dashboard controller on its own: when it draws (frames on a fake clock), what the last frame carries, and
// what a drawing failure does. The elements are recorded, not rendered: what they draw is the components' tests'.
import type { ReactElement } from 'react';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../helpers/fake-clock.js';
import { startDashboard, type DashboardControllerOptions, type RenderFn } from '../../../src/report/ink/controller.js';
import { NOTICE_MS, type DashboardCommand } from '../../../src/report/ink/keys.js';
import { NOW, progressingSnapshot } from './fixtures.js';

interface AppProps {
  view: unknown;
  keysActive: boolean;
  onKey: (press: { input: string }) => void;
}

/** A RenderFn that records each frame's element (and when it was drawn), and what was asked of the handle. */
function recorder(clock: FakeClock, failAt?: number) {
  const frames: { at: number; props: AppProps }[] = [];
  const calls: string[] = [];
  const record = (node: ReactElement) => {
    if (failAt !== undefined && frames.length === failAt) throw new Error('no terminal after all');
    frames.push({ at: clock.now() - NOW, props: node.props as AppProps });
  };
  const render: RenderFn = (node) => {
    record(node);
    calls.push('render');
    return {
      rerender: record,
      unmount: () => calls.push('unmount'),
      waitUntilExit: async () => {
        calls.push('waitUntilExit');
        return undefined;
      },
    };
  };
  return { frames, calls, render };
}

function start(clock: FakeClock, render: RenderFn, extra: Partial<DashboardControllerOptions> = {}) {
  const commands: DashboardCommand[] = [];
  const errors: unknown[] = [];
  const controller = startDashboard({
    mode: 'control',
    read: progressingSnapshot,
    onCommand: (command) => commands.push(command),
    size: () => ({ columns: 100, rows: 30 }),
    colors: false,
    keysEnabled: true,
    clock,
    render,
    onError: (error) => errors.push(error),
    ...extra,
  });
  return { controller, commands, errors };
}

describe('startDashboard', () => {
  it('draws at once, then every idleMs while nothing happens', async () => {
    const clock = new FakeClock(NOW);
    const { frames, calls, render } = recorder(clock);
    const { controller } = start(clock, render);
    expect(frames.map((frame) => frame.at)).toEqual([0]);
    await clock.advance(1000);
    expect(frames.map((frame) => frame.at)).toEqual([0, 250, 500, 750, 1000]);
    expect(calls).toEqual(['render']);
    await controller.finish();
  });

  it('keeps drawing after the wall clock steps back an hour: its throttle is on the steady clock', async () => {
    const clock = new FakeClock(NOW);
    const { frames, render } = recorder(clock);
    const { controller } = start(clock, render, { idleMs: 250, minGapMs: 100 });
    clock.jumpWall(-3_600_000);
    // On the wall clock this refresh replaced the idle frame with one an hour after the last.
    controller.refresh();
    await clock.advance(1000);
    expect(frames).toHaveLength(5);
    await controller.finish();
  });

  it('draws a refresh no sooner than minGapMs after the last frame, and once for many refreshes', async () => {
    const clock = new FakeClock(NOW);
    const { frames, render } = recorder(clock);
    const { controller } = start(clock, render, { idleMs: 1000, minGapMs: 200 });
    await clock.advance(50);
    for (let i = 0; i < 5; i++) controller.refresh();
    await clock.advance(400);
    expect(frames.map((frame) => frame.at)).toEqual([0, 200]);
    await clock.advance(300);
    controller.refresh(); // 550 ms after the last frame: at once
    await clock.advance(0);
    expect(frames.map((frame) => frame.at)).toEqual([0, 200, 750]);
    await clock.advance(1000);
    expect(frames.map((frame) => frame.at)).toEqual([0, 200, 750, 1750]);
    await controller.finish();
  });

  it('finishes with one last frame (keys off), unmounts, and draws nothing after', async () => {
    const clock = new FakeClock(NOW);
    const { frames, calls, render } = recorder(clock);
    const { controller } = start(clock, render);
    await clock.advance(100);
    await controller.finish({ exitCode: 4, reason: 'aborted by ops' });
    expect(frames.map((frame) => frame.at)).toEqual([0, 100]);
    expect(frames[0]!.props.keysActive).toBe(true);
    expect(frames[1]!.props.keysActive).toBe(false);
    expect(JSON.stringify(frames[1]!.props.view)).toContain('aborted by ops');
    expect(calls).toEqual(['render', 'unmount', 'waitUntilExit']);
    await controller.finish({ exitCode: 0 }); // a second finish does nothing
    controller.refresh();
    await clock.advance(2000);
    expect(frames).toHaveLength(2);
    expect(calls).toEqual(['render', 'unmount', 'waitUntilExit']);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('stops drawing after a failed frame, reporting it once; finish then draws nothing', async () => {
    const clock = new FakeClock(NOW);
    const { frames, calls, render } = recorder(clock, 1);
    const { controller, errors } = start(clock, render);
    await clock.advance(1000);
    expect(frames).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(calls).toEqual(['render', 'unmount']);
    await controller.finish({ exitCode: 0 });
    expect(errors).toHaveLength(1);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('reports a failure of the very first frame and of the last, and still resolves finish', async () => {
    const clock = new FakeClock(NOW);
    const { calls, render } = recorder(clock, 0);
    const { controller, errors } = start(clock, render);
    expect(errors).toHaveLength(1);
    await controller.finish({ exitCode: 0 });
    expect(calls).toEqual([]);
  });

  it('turns a key into a command and draws soon after, not from inside the key press', async () => {
    const clock = new FakeClock(NOW);
    const { frames, render } = recorder(clock);
    const { controller, commands } = start(clock, render, { minGapMs: 200 });
    await clock.advance(300);
    const drawn = frames.length;
    frames[0]!.props.onKey({ input: 'p' });
    expect(commands).toEqual(['pause']);
    expect(frames).toHaveLength(drawn);
    // The last frame was at 250: the key's is due at 450, before the idle one at 500.
    await clock.advance(200);
    expect(frames.map((frame) => frame.at).slice(drawn)).toEqual([450]);
    // The same handler every frame: Ink's input hook is not re-subscribed on each redraw.
    expect(new Set(frames.map((frame) => frame.props.onKey)).size).toBe(1);
    await controller.finish();
  });

  it("shows a key's notice for NOTICE_MS of steady time, whichever way the wall clock steps meanwhile", async () => {
    for (const step of [-3_600_000, 3_600_000]) {
      const clock = new FakeClock(NOW);
      const { frames, render } = recorder(clock);
      const { controller } = start(clock, render, { idleMs: 250, minGapMs: 0 });
      const shown = () => JSON.stringify(frames.at(-1)!.props.view).includes('pause requested');
      frames[0]!.props.onKey({ input: 'p' });
      await clock.advance(0);
      expect(shown()).toBe(true);
      // On the wall clock a step back kept the notice for the hour, a step forward took it off at once.
      clock.jumpWall(step);
      await clock.advance(NOTICE_MS);
      expect(shown()).toBe(true);
      await clock.advance(250);
      expect(shown()).toBe(false);
      await controller.finish();
    }
  });

  it('takes "pause requested" off once the rollout is paused, not NOTICE_MS later (the header says PAUSED then)', async () => {
    // Session 35's user test: the footer said "pause requested" beside PAUSED for ~2 s after the pause took effect.
    const clock = new FakeClock(NOW);
    const { frames, render } = recorder(clock);
    let phase: 'progressing' | 'paused' = 'progressing';
    const { controller } = start(clock, render, { idleMs: 250, minGapMs: 0, read: () => ({ ...progressingSnapshot(), phase }) });
    const shown = () => JSON.stringify(frames.at(-1)!.props.view).includes('pause requested');
    frames[0]!.props.onKey({ input: 'p' });
    await clock.advance(0);
    expect(shown()).toBe(true);
    // Still progressing (the engine has not taken it yet): the notice stays.
    await clock.advance(500);
    expect(shown()).toBe(true);
    phase = 'paused';
    await clock.advance(250);
    expect(shown()).toBe(false);
    await controller.finish();
  });

  it('keeps a notice whose command changed no phase (a pause while paused) for its NOTICE_MS', async () => {
    const clock = new FakeClock(NOW);
    const { frames, render } = recorder(clock);
    const { controller } = start(clock, render, { idleMs: 250, minGapMs: 0, read: () => ({ ...progressingSnapshot(), phase: 'paused' }) });
    const shown = () => JSON.stringify(frames.at(-1)!.props.view).includes('pause requested');
    frames[0]!.props.onKey({ input: 'p' });
    await clock.advance(NOTICE_MS);
    expect(shown()).toBe(true);
    await clock.advance(250);
    expect(shown()).toBe(false);
    await controller.finish();
  });
});
