// Engine seams for tests on the fake clock: the same small request every time, arriving every `ms` of fake time.
import type { EngineDeps } from '../../src/engine/deps.js';
import type { FakeClock } from '../helpers/fake-clock.js';

export const SAME_REQUEST: EngineDeps['traffic'] = {
  next: () => ({ messages: [{ role: 'user', content: 'hi' }], params: {}, stream: false, maxTokens: 16, source: 'synthetic' }),
};

/** One arrival every `ms` of the fake clock while started; none after stop. */
export function arrivalsEvery(clock: FakeClock, ms: number): EngineDeps['arrivals'] {
  return (onArrival) => {
    let timer: { cancel(): void } | undefined;
    let running = false;
    const tick = () => {
      if (!running) return;
      onArrival();
      timer = clock.setTimer(tick, ms);
    };
    return {
      start: () => {
        running = true;
        timer = clock.setTimer(tick, ms);
      },
      stop: () => {
        running = false;
        timer?.cancel();
      },
    };
  };
}
