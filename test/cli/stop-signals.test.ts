// A signal while the rollout is already ending (a slow on_rollback under way) is not met with silence.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { routeStopSignals } from '../../src/cli/stop-signals.js';

describe('signals routed to the rollout', () => {
  it('interrupts on the first, and says once what a repeated one does', () => {
    const events = new EventEmitter();
    const interrupts: string[] = [];
    const warnings: string[] = [];
    const unroute = routeStopSignals(
      { interrupt: (signal) => interrupts.push(signal), fail: () => undefined },
      { events, warn: (message) => warnings.push(message) },
    );
    events.emit('SIGINT');
    expect(warnings).toEqual([]);
    events.emit('SIGINT');
    events.emit('SIGTERM');
    unroute();
    expect(interrupts).toEqual(['SIGINT', 'SIGINT', 'SIGTERM']);
    expect(warnings).toEqual([
      "SIGINT again: the rollout is already ending; requests in flight are no longer waited for, but the ending's hook runs on (up to its timeout), as it is what moves traffic; kill -9 would leave traffic wherever it is",
    ]);
  });
});
