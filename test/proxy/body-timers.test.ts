// The body readers of one server share a timer check a turn of the event loop (src/proxy/body.ts): each body still
// on its way when the turn it began in is over gets its timer, those read whole by then get none, and the check
// works again for the bodies of later turns.
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BodyTimerCheck, readBodyThen, type BodyRead } from '../../src/proxy/body.js';

/** A request whose body the test sends: `chunk` and `end` emit its events. */
function request(): IncomingMessage & { chunk: (text: string) => void; finish: () => void } {
  const req = Object.assign(new EventEmitter(), { headers: {} }) as unknown as IncomingMessage & { chunk: (text: string) => void; finish: () => void };
  req.chunk = (text) => req.emit('data', Buffer.from(text));
  req.finish = () => req.emit('end');
  return req;
}

/** Starts reading `req` with the shared check; the read's outcome lands in the returned list. */
function read(req: IncomingMessage, check: BodyTimerCheck): BodyRead[] {
  const outcome: BodyRead[] = [];
  readBodyThen(req, 1024, 100, (result) => outcome.push(result), undefined, check);
  return outcome;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('the body timer check', () => {
  it('times out only the bodies still on their way after their turn, in this turn and a later one', () => {
    vi.useFakeTimers();
    const check = new BodyTimerCheck();
    const [fast, slow, slower] = [request(), request(), request()];
    const fastRead = read(fast, check);
    const slowRead = read(slow, check);
    const slowerRead = read(slower, check);
    fast.chunk('{"model":"m"}');
    fast.finish();
    slow.chunk('{"model":');
    // The turn ends: its check arms timers for the two bodies still on their way.
    vi.advanceTimersToNextTimer();
    slower.chunk('{"mo');
    slower.finish();
    vi.advanceTimersByTime(100);
    expect(fastRead).toEqual([{ ok: true, body: Buffer.from('{"model":"m"}') }]);
    expect(slowRead).toEqual([{ ok: false, reason: 'timeout' }]);
    // Read whole before its timer ran out: the timer was cleared, and the read is what came.
    expect(slowerRead).toEqual([{ ok: true, body: Buffer.from('{"mo') }]);

    // A later turn's body gets its own check.
    const late = request();
    const lateRead = read(late, check);
    vi.advanceTimersToNextTimer();
    vi.advanceTimersByTime(100);
    expect(lateRead).toEqual([{ ok: false, reason: 'timeout' }]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
