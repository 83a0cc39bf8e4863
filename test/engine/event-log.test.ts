// The engine's event log never throws into the engine: not for a journal that cannot be written, not for a
// listener (a reporter) that throws; every other listener still hears every event.
import { describe, expect, it } from 'vitest';
import { EventLog } from '../../src/engine/event-log.js';
import type { RolloutEvent } from '../../src/engine/types.js';

const event = (message: string): RolloutEvent => ({ at: 1, type: 'breach', stage: 2, greenWeight: 0, message });

describe('EventLog', () => {
  it('hands a throwing listener’s error aside and still tells the other listeners', () => {
    const errors: unknown[] = [];
    const heard: string[] = [];
    const log = new EventLog(
      () => {},
      (error) => errors.push(error),
    );
    log.subscribe(() => {
      throw new Error('reporter bug');
    });
    log.subscribe((e) => heard.push(e.message));
    expect(() => log.publish(event('green error_rate 30%'))).not.toThrow();
    expect(heard).toEqual(['green error_rate 30%']);
    expect(errors).toEqual([new Error('reporter bug')]);
  });

  it('warns once per distinct journal failure, and keeps the event for the snapshot', () => {
    const heard: RolloutEvent[] = [];
    const log = new EventLog(() => {
      throw new Error('ENOSPC: no space left on device, write');
    });
    log.subscribe((e) => heard.push(e));
    log.publish(event('one'));
    log.publish(event('two'));
    expect(heard.map((e) => e.message)).toEqual([
      'one',
      'events.jsonl could not be written (ENOSPC: no space left on device, write); the rollout goes on, and state.json still records it',
      'two',
    ]);
    expect(heard[1]).toMatchObject({ type: 'warning', stage: 2, greenWeight: 0 });
    expect(log.recent().map((e) => e.message)).toContain('two');
  });
});
