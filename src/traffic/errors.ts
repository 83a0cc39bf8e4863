// A traffic source that cannot be used (missing, empty or unreadable file): the operator's to fix, not a bug.
import { errorCode, errorText, SYMLINK_LOOP } from '../core/errors.js';
import type { PlanProblem } from '../plan/errors.js';

export class TrafficError extends Error {
  constructor(
    message: string,
    /** The file at fault, when there is one. */
    readonly file?: string,
    /**
     * Where the plan names that file, as a plan error's place (plan/errors.ts): `--json` gives it as the plan's own
     * errors are given, `{file, line, col, keyPath, message}`, not only inside the message.
     */
    readonly problem?: PlanProblem,
  ) {
    super(message);
    this.name = 'TrafficError';
  }
}

export function describeError(error: unknown): string {
  const code = errorCode(error);
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'it is a folder, not a file';
  if (code === 'ELOOP') return SYMLINK_LOOP;
  return errorText(error);
}
