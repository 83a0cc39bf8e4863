// Which upstream failures are worth another attempt; how long to wait is src/core/retry.ts.
import type { FailureClass } from './types.js';

/** 408, 409, 429 (not out of quota), 5xx, timeouts and connection errors are worth another try. */
export function isRetryable(failure: FailureClass, status?: number): boolean {
  switch (failure) {
    case 'timeout':
    case 'connection':
    case 'rate_limited':
    case 'server_error':
      return true;
    case 'client_error':
      return status === 409;
    default:
      // auth, quota and bad_response will not fix themselves.
      return false;
  }
}
