import { describe, expect, it } from 'vitest';
import { newEvents } from '../../src/cli/new-events.js';
import { event } from '../state/helpers.js';

describe('newEvents', () => {
  const [a, b, c, d] = [event(4, 'a'), event(3, 'b'), event(2, 'c'), event(1, 'd')];

  it('tells new events by their place in the list, not their times (a wall clock stepped back)', () => {
    expect(newEvents([], [a, b])).toEqual([a, b]);
    expect(newEvents([a, b], [a, b])).toEqual([]);
    expect(newEvents([a, b], [a, b, c])).toEqual([c]);
    // The oldest dropped as new ones come (the list is bounded).
    expect(newEvents([a, b, c], [b, c, d])).toEqual([d]);
    expect(newEvents([a, b], [c, d])).toEqual([c, d]);
  });

  it('counts an event equal to the last one seen as new when it comes again', () => {
    expect(newEvents([a, b], [a, b, b])).toEqual([b]);
    expect(newEvents([b, b], [b, b, b])).toEqual([b]);
  });
});
