// `status --watch` in a terminal: the read-only dashboard over a state file that changes under it.
import { PassThrough } from 'node:stream';
import type { ReactElement } from 'react';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { eventLoopTurns } from '../../helpers/turns.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import type { RolloutSnapshot } from '../../../src/engine/types.js';
import type { RenderFn } from '../../../src/report/ink/controller.js';
import { watchDashboard, type WatchedState, type WatchEnd } from '../../../src/report/ink/watch.js';
import { NOW, progressingSnapshot, rolledBackSnapshot } from './fixtures.js';
import { cleanFrame, lastDrawn } from './frames.js';

function harness(states: WatchedState[]) {
  const clock = new FakeClock(NOW);
  let instance: ReturnType<typeof render> | undefined;
  let unmounted = false;
  const renderFn: RenderFn = (node: ReactElement) => {
    instance = render(node);
    const current = instance;
    return { rerender: (next) => current.rerender(next), unmount: () => ((unmounted = true), current.unmount()), waitUntilExit: async () => undefined };
  };
  let reads = 0;
  const read = () => {
    const state = states[Math.min(reads, states.length - 1)]!;
    reads++;
    return state;
  };
  const streams = {
    stdout: Object.assign(new PassThrough(), { isTTY: true, columns: 100, rows: 30 }),
    stdin: Object.assign(new PassThrough(), { isTTY: true }),
    stderr: new PassThrough(),
  };
  const ended: Promise<WatchEnd> = watchDashboard({
    streams,
    env: {},
    stateDir: '/tmp/state',
    intervalMs: 1000,
    read,
    isFinished: (snapshot: RolloutSnapshot) => snapshot.endedAt !== undefined,
    clock,
    render: renderFn,
  });
  return {
    clock,
    ended,
    frame: () => cleanFrame(lastDrawn(instance?.frames ?? [])),
    stdin: () => instance!.stdin,
    reads: () => reads,
    unmounted: () => unmounted,
  };
}

const alive = (snapshot: RolloutSnapshot): WatchedState => ({ snapshot, owner: { alive: true, pid: snapshot.pid } });

describe('watchDashboard', () => {
  it('shows the live figures read-only, re-reading the state every interval, and ends with the rollout', async () => {
    const moving = progressingSnapshot();
    const later = {
      ...moving,
      stages: moving.stages.map((s) => (s.index === 2 ? { ...s, arms: { ...s.arms, green: { ...s.arms.green, requests: 999 } } } : s)),
    };
    const h = harness([alive(moving), alive(moving), alive(later), alive(rolledBackSnapshot())]);
    await h.clock.advance(10);
    expect(h.frame()).toContain('bluegreen (watching) · gpt-4o-to-gpt-4.1');
    expect(h.frame()).toContain('read-only · updated');
    expect(h.frame()).not.toContain('p pause');
    await h.clock.advance(2000);
    expect(h.frame()).toMatch(/▶3 +50% running +930 .* 999 /);
    await h.clock.advance(1000);
    const end = await h.ended;
    expect(end.kind).toBe('finished');
    expect(end.kind === 'finished' && end.snapshot.exitCode).toBe(10);
    expect(h.frame()).toContain('■ ROLLED BACK · exit 10');
    expect(h.unmounted()).toBe(true);
    expect(h.reads()).toBe(4);
  });

  it('q stops watching at once; control keys do nothing', async () => {
    const h = harness([alive(progressingSnapshot())]);
    await h.clock.advance(10);
    h.stdin().write('a');
    h.stdin().write('p');
    await eventLoopTurns();
    h.stdin().write('q');
    await eventLoopTurns();
    await h.clock.advance(1);
    expect(await h.ended).toEqual({ kind: 'quit', interrupted: false });
    expect(h.unmounted()).toBe(true);
  });

  it('ctrl-c ends the watch as an interruption', async () => {
    const h = harness([alive(progressingSnapshot())]);
    await h.clock.advance(10);
    h.stdin().write('\u0003');
    await eventLoopTurns();
    await h.clock.advance(1);
    expect(await h.ended).toEqual({ kind: 'quit', interrupted: true });
  });

  it('stops when the rollout process is gone, saying so on the last frame', async () => {
    const snapshot = progressingSnapshot();
    const h = harness([alive(snapshot), { snapshot, owner: { alive: false, pid: snapshot.pid } }]);
    await h.clock.advance(1010);
    const end = await h.ended;
    expect(end.kind).toBe('owner_gone');
    expect(h.frame()).toContain('owner pid 4242 is gone');
  });
});
