// Telling one proxy restarting from two proxies answering at one admin URL, by the order of calls and the results
// feed each answer names (process-order.ts).
import { describe, expect, it } from 'vitest';
import { ProcessOrder } from '../../src/live/process-order.js';

/** Calls one after another, each answered before the next is sent, by these feeds. */
function inTurn(order: ProcessOrder, feeds: string[]): void {
  for (const feed of feeds) order.answered(feed, order.sending());
}

describe('ProcessOrder', () => {
  it('takes a proxy restarting (even in a loop) for one process at a time', () => {
    const order = new ProcessOrder();
    inTurn(order, ['a', 'a', 'b', 'b', 'c', 'd', 'd']);
    expect(order.twoAnswering).toBeUndefined();
    expect(order.feeds()).toEqual(['a', 'b', 'c', 'd']);
  });

  it("takes the old process's late answer to a call sent before the new one answered for no second process", () => {
    const order = new ProcessOrder();
    inTurn(order, ['a']);
    // A renewal goes to the old process; a read sent after it reaches the new one, and answers first.
    const renewal = order.sending();
    inTurn(order, ['b']);
    order.answered('a', renewal);
    expect(order.twoAnswering).toBeUndefined();
    inTurn(order, ['b']);
    expect(order.twoAnswering).toBeUndefined();
  });

  it('sees two processes once a feed answers again after another answered later: round-robin over two, or three', () => {
    const two = new ProcessOrder();
    inTurn(two, ['a', 'b']);
    expect(two.twoAnswering).toBeUndefined();
    inTurn(two, ['a']);
    expect(two.twoAnswering).toEqual(['b', 'a']);
    const three = new ProcessOrder();
    inTurn(three, ['a', 'b', 'c', 'a']);
    expect(three.twoAnswering).toBeDefined();
  });

  it('sees two processes from calls that overlap, only once each answered a call sent after the other answered one', () => {
    const order = new ProcessOrder();
    const first = order.sending();
    const second = order.sending();
    order.answered('a', first);
    order.answered('b', second);
    // Either could be the newer so far; and b then a restart since a call sent before a answered (its answer late).
    expect(order.twoAnswering).toBeUndefined();
    inTurn(order, ['a']);
    expect(order.twoAnswering).toBeUndefined();
    inTurn(order, ['b']);
    expect(order.twoAnswering).toEqual(['a', 'b']);
  });
});
