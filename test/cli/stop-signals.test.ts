// A signal while the rollout is already ending (a slow on_rollback under way, or a promotion) is not met with silence.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { routeStopSignals, type Stoppable } from '../../src/cli/stop-signals.js';
import type { EndingUnderWay } from '../../src/engine/rollout.js';

/** An engine that starts its ending on the first signal unless `ending` says one is under way already. */
function engineWith(ending?: EndingUnderWay): { engine: Stoppable; interrupts: string[] } {
  const interrupts: string[] = [];
  let underWay = ending;
  const engine: Stoppable = {
    interrupt: (signal) => {
      interrupts.push(signal);
      const answer = underWay;
      underWay ??= { phase: 'interrupted', moving: 'the on_rollback hook (exec, up to its 30s timeout)' };
      return answer;
    },
    fail: () => undefined,
  };
  return { engine, interrupts };
}

describe('signals routed to the rollout', () => {
  it('interrupts on the first, and says once what a repeated one does', () => {
    const events = new EventEmitter();
    const warnings: string[] = [];
    const { engine, interrupts } = engineWith();
    const unroute = routeStopSignals(engine, { events, warn: (message) => warnings.push(message) });
    events.emit('SIGINT');
    expect(warnings).toEqual([]);
    events.emit('SIGINT');
    events.emit('SIGTERM');
    unroute();
    expect(interrupts).toEqual(['SIGINT', 'SIGINT', 'SIGTERM']);
    expect(warnings).toEqual([
      'SIGINT again: the rollout is already ending, rolling back to blue; it waits for the on_rollback hook (exec, up to its 30s timeout), which a signal does not stop, as it is what moves traffic. Requests in flight are no longer waited for, and another Ctrl-C changes nothing more; kill -9 would leave traffic wherever it is',
    ]);
  });

  it('says so on the first Ctrl-C that finds a promotion under way', () => {
    const events = new EventEmitter();
    const warnings: string[] = [];
    const { engine, interrupts } = engineWith({ phase: 'promoted', moving: 'the 2 proxies to take the promotion (each tried 3 times at most)' });
    const unroute = routeStopSignals(engine, { events, warn: (message) => warnings.push(message) });
    events.emit('SIGINT');
    events.emit('SIGINT');
    unroute();
    expect(interrupts).toEqual(['SIGINT', 'SIGINT']);
    expect(warnings).toEqual([
      'SIGINT: the rollout is already ending, promoting green to 100% (a promotion under way is not turned into a rollback); it waits for the 2 proxies to take the promotion (each tried 3 times at most), which a signal does not stop, as it is what moves traffic. Requests in flight are no longer waited for, and another Ctrl-C changes nothing more; kill -9 would leave traffic wherever it is',
    ]);
  });

  it('says traffic is already in place when only requests in flight are left', () => {
    const events = new EventEmitter();
    const warnings: string[] = [];
    const unroute = routeStopSignals(engineWith({ phase: 'aborted' }).engine, { events, warn: (message) => warnings.push(message) });
    events.emit('SIGTERM');
    unroute();
    expect(warnings).toEqual([
      'SIGTERM: the rollout is already ending, aborting to blue; traffic is already where it leaves it. Requests in flight are no longer waited for, and another Ctrl-C changes nothing more; kill -9 would leave traffic wherever it is',
    ]);
  });
});
