// The one wait of the tests: for a condition on what other code (in-process, or another process through its files
// and output) does, never for a length of time.
import { vi } from 'vitest';

/**
 * Resolves once `check` holds, or fails after `timeoutMs` saying what it waited for. The deadline only bounds a
 * hang: a passing test never waits for it, and on a loaded 2-core machine a step across processes (each `node`
 * start takes seconds of CPU there; `npm exec` then `node` took over 30 s at load 30-45) can take most of it. Polls every 10 ms: polling on every turn of the event loop
 * kept a core busy (reading a file, often) that the processes waited on needed. Under vi's fake setTimeout it polls
 * on every turn, the only way it can. `check` may be async (a question to a server): each is awaited before the next.
 */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => (vi.isFakeTimers() ? setImmediate(resolve) : setTimeout(resolve, 10)));
  }
}
