// A synchronous pause for code that polls a descriptor it opened without blocking (a named pipe): it sleeps the
// thread (Atomics.wait) instead of spinning, and a worker's terminate() still interrupts it, as it cannot interrupt a
// blocking open() or read().

/** A synchronous pause that doubles each time (1, 2, 4 … maxMs ms) until reset. */
export function syncBackoff(maxMs: number): { wait(): void; reset(): void } {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  let ms = 1;
  return {
    wait() {
      Atomics.wait(cell, 0, 0, ms);
      ms = Math.min(ms * 2, maxMs);
    },
    reset() {
      ms = 1;
    },
  };
}
