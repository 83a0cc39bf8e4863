// Lets pending I/O callbacks, stream events and React renders run: n turns of the event loop, not wall time.
export async function eventLoopTurns(n = 10): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
