// The rollout's dashboard reporter, driven through ink-testing-library: keys in on stdin, engine calls out.
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type { ReactElement } from 'react';
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { eventLoopTurns } from '../../helpers/turns.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import type { RolloutEvent, RolloutSnapshot } from '../../../src/engine/types.js';
import type { RenderFn } from '../../../src/report/ink/controller.js';
import { createDashboardReporter, type DashboardTarget } from '../../../src/report/ink/reporter.js';
import { abortedSnapshot, NOW, progressingSnapshot } from './fixtures.js';
import { cleanFrame, lastDrawn } from './frames.js';

const ACTOR = 'alice@ops (dashboard)';

/** A ReporterTarget that records what the dashboard asked of it. */
class FakeEngine implements DashboardTarget {
  calls: string[] = [];
  current: RolloutSnapshot = progressingSnapshot();
  reads = 0;
  private readonly listeners = new Set<(event: RolloutEvent) => void>();
  snapshot(): RolloutSnapshot {
    this.reads++;
    return this.current;
  }
  onEvent(listener: (event: RolloutEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(event: RolloutEvent): void {
    for (const listener of this.listeners) listener(event);
  }
  listenerCount(): number {
    return this.listeners.size;
  }
  pause(actor?: string) {
    this.calls.push(`pause ${actor}`);
  }
  resume(actor?: string) {
    this.calls.push(`resume ${actor}`);
  }
  promote(actor?: string) {
    this.calls.push(`promote ${actor}`);
  }
  abort(actor?: string) {
    this.calls.push(`abort ${actor}`);
  }
}

/** ink-testing-library behind the controller's RenderFn, counting frames. */
function testRenderer() {
  const state: { instance?: ReturnType<typeof render>; renders: number; unmounted: boolean } = { renders: 0, unmounted: false };
  const fn: RenderFn = (node: ReactElement) => {
    state.instance = render(node);
    state.renders++;
    const instance = state.instance;
    return {
      rerender: (next) => {
        state.renders++;
        instance.rerender(next);
      },
      unmount: () => {
        state.unmounted = true;
        instance.unmount();
      },
      waitUntilExit: async () => undefined,
    };
  };
  return { fn, state, frame: () => cleanFrame(lastDrawn(state.instance?.frames ?? [])), stdin: () => state.instance!.stdin };
}

function terminal(size = { columns: 100, rows: 30 }) {
  const stdout = Object.assign(new PassThrough(), { isTTY: true, ...size });
  const stdin = Object.assign(new PassThrough(), { isTTY: true });
  return { stdout, stdin, stderr: new PassThrough() };
}

const settle = () => eventLoopTurns();

function setup(options: { env?: NodeJS.ProcessEnv; size?: { columns: number; rows: number } } = {}) {
  const engine = new FakeEngine();
  const clock = new FakeClock(NOW);
  const renderer = testRenderer();
  const interrupts: number[] = [];
  const streams = terminal(options.size);
  const reporter = createDashboardReporter({
    streams,
    env: options.env ?? {},
    engine,
    actor: ACTOR,
    interrupt: () => interrupts.push(clock.now()),
    clock,
    render: renderer.fn,
  });
  const press = async (input: string) => {
    renderer.stdin().write(input);
    await settle();
    await clock.advance(250);
  };
  return { engine, clock, renderer, interrupts, reporter, press, streams };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('dashboard keys call the engine with the operator as actor', () => {
  it('p pauses, r resumes, a aborts', async () => {
    const { engine, press, reporter } = setup();
    cleanups.push(() => reporter.finish({ exitCode: 4 }));
    await settle();
    await press('p');
    await press('r');
    await press('a');
    expect(engine.calls).toEqual([`pause ${ACTOR}`, `resume ${ACTOR}`, `abort ${ACTOR}`]);
  });

  it('P asks first: y promotes, n does not', async () => {
    const { engine, press, renderer, reporter } = setup();
    cleanups.push(() => reporter.finish({ exitCode: 0 }));
    await settle();
    await press('P');
    expect(engine.calls).toEqual([]);
    expect(renderer.frame()).toContain('Promote now: green to 100% and finish? [y/n]');
    await press('n');
    expect(engine.calls).toEqual([]);
    expect(renderer.frame()).toContain('promotion cancelled');
    await press('P');
    await press('y');
    expect(engine.calls).toEqual([`promote ${ACTOR}`]);
  });

  it('q asks first, then aborts on y', async () => {
    const { engine, press, renderer, reporter } = setup();
    cleanups.push(() => reporter.finish({ exitCode: 4 }));
    await settle();
    await press('q');
    expect(engine.calls).toEqual([]);
    expect(renderer.frame()).toContain('Quit: abort the rollout and roll back to blue? [y/n]');
    await press('y');
    expect(engine.calls).toEqual([`abort ${ACTOR}`]);
  });

  it('ctrl-c goes to the interrupt path (the rollout exits 130), not to Ink', async () => {
    const { engine, press, interrupts, renderer, reporter } = setup();
    cleanups.push(() => reporter.finish({ exitCode: 130 }));
    await settle();
    await press('\u0003');
    expect(interrupts).toHaveLength(1);
    expect(engine.calls).toEqual([]);
    expect(renderer.state.unmounted).toBe(false);
  });
});

// leftalone11: a promotion still moving traffic keeps its phase (progressing) until every proxy took it, so the
// dashboard took it for a running rollout: `a` sent an abort the engine ignored, in silence.
describe('dashboard keys while a promotion still moves traffic', () => {
  it('says the rollout is already ending: no key changes it, ctrl-c stops only the wait for requests in flight', async () => {
    const { engine, press, renderer, interrupts, reporter } = setup();
    cleanups.push(() => reporter.finish({ exitCode: 0 }));
    engine.current = { ...engine.current, reason: 'promoted to 100% green by alice@host' };
    await settle();
    await press('a');
    expect(engine.calls).toEqual([]);
    expect(renderer.frame()).toContain('already ending: no key changes it now');
    await press('\u0003');
    expect(interrupts).toHaveLength(1);
    expect(renderer.frame()).toContain('ending: in-flight wait skipped');
  });
});

describe('drawing', () => {
  it('redraws on a timer at no more than 5 frames a second, events included', async () => {
    const { engine, clock, renderer, reporter } = setup();
    cleanups.push(() => reporter.finish({ exitCode: 0 }));
    const start = renderer.state.renders;
    for (let i = 0; i < 50; i++) {
      engine.emit({ at: clock.now(), type: 'warning', message: `burst ${i}` });
      await clock.advance(20);
    }
    // 1 s of time with 50 events: at most one frame per 200 ms.
    const frames = renderer.state.renders - start;
    expect(frames).toBeGreaterThanOrEqual(4);
    expect(frames).toBeLessThanOrEqual(5);
  });

  it('never draws from inside an engine event (the request path)', () => {
    const { engine, renderer, reporter } = setup();
    cleanups.push(() => reporter.finish({ exitCode: 0 }));
    const before = { renders: renderer.state.renders, reads: engine.reads };
    engine.emit({ at: NOW, type: 'breach', message: 'x' });
    expect(renderer.state.renders).toBe(before.renders);
    expect(engine.reads).toBe(before.reads);
  });

  it('follows a resize of the terminal', async () => {
    const { renderer, streams, clock, reporter } = setup({ size: { columns: 100, rows: 30 } });
    cleanups.push(() => reporter.finish({ exitCode: 0 }));
    await settle();
    expect(renderer.frame().split('\n')[0]!.length).toBe(100);
    Object.assign(streams.stdout, { columns: 80, rows: 24 });
    (streams.stdout as EventEmitter).emit('resize');
    await clock.advance(250);
    const lines = renderer.frame().split('\n');
    expect(lines[0]!.length).toBe(80);
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(80);
  });

  it('leaves a final frame with the outcome and its exit code, then unmounts and stops listening', async () => {
    const { engine, renderer, reporter, clock } = setup();
    engine.current = abortedSnapshot();
    await reporter.finish({ exitCode: 4, reason: 'aborted by alice@ops (dashboard); traffic is back on blue' });
    expect(renderer.state.unmounted).toBe(true);
    expect(engine.listenerCount()).toBe(0);
    const frame = renderer.frame();
    expect(frame).toContain('■ ABORTED · exit 4');
    expect(frame).toContain('aborted by alice@ops (dashboard); traffic is back on blue');
    const renders = renderer.state.renders;
    await clock.advance(2000);
    expect(renderer.state.renders).toBe(renders);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('honours NO_COLOR: no escape codes in any frame', async () => {
    const { renderer, reporter, press } = setup({ env: { NO_COLOR: '1' } });
    await settle();
    await press('p');
    await reporter.finish({ exitCode: 0, reason: 'done' });
    for (const frame of renderer.state.instance!.frames) expect(frame).not.toContain('\u001b');
  });

  it('a drawing failure is reported once and never reaches the rollout', async () => {
    const engine = new FakeEngine();
    const clock = new FakeClock(NOW);
    const errors: unknown[] = [];
    const reporter = createDashboardReporter({
      streams: terminal(),
      env: {},
      engine,
      actor: ACTOR,
      interrupt: () => undefined,
      clock,
      render: () => {
        throw new Error('no terminal after all');
      },
      onError: (error) => errors.push(error),
    });
    engine.emit({ at: NOW, type: 'warning', message: 'x' });
    await clock.advance(1000);
    await reporter.finish({ exitCode: 0 });
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toContain('no terminal after all');
  });
});
