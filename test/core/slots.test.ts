import { describe, expect, it } from 'vitest';
import { Slots } from '../../src/core/slots.js';

describe('Slots', () => {
  it('fills freed slots first and lists what it holds', () => {
    const slots = new Slots<string>();
    const a = slots.add('a');
    slots.add('b');
    slots.remove(a);
    expect(slots.add('c')).toBe(a);
    expect(slots.values().sort()).toEqual(['b', 'c']);
    expect(slots.size).toBe(2);
  });

  it('ignores a second remove of the same slot, so two later items never share it', () => {
    const slots = new Slots<string>();
    const a = slots.add('a');
    slots.add('b');
    slots.remove(a);
    slots.remove(a);
    expect(slots.size).toBe(1);
    const c = slots.add('c');
    const d = slots.add('d');
    expect(c).not.toBe(d);
    expect(slots.values().sort()).toEqual(['b', 'c', 'd']);
    expect(slots.size).toBe(3);
  });
});
