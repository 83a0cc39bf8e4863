// Closes what a test opened (servers, proxies) when that test ends, passed or failed, so test files need no
// module-level `let` + afterEach bookkeeping and nothing leaks into the next test.
import { onTestFinished } from 'vitest';

export interface Closable {
  close(): Promise<void>;
}

/**
 * Registers `resource` to be closed when the running test ends (the newest first: a proxy before its upstream)
 * and returns it. Closing is made idempotent, so a test may still close it early. Call it inside a test.
 */
export function closeAfterTest<T extends Closable>(resource: T): T {
  const close = resource.close.bind(resource);
  let closing: Promise<void> | undefined;
  resource.close = () => (closing ??= close());
  onTestFinished(() => resource.close());
  return resource;
}
