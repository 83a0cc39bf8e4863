// Who runs a command, as locks, journals, routes and operator actions name them.
import os from 'node:os';
import { thisProcess } from '../core/proc-stat.js';
import type { LockInfo } from '../state/index.js';

/** Who runs this command: $USER, $LOGNAME, or the account's name ("unknown" when even that cannot be read). */
export function userName(env: NodeJS.ProcessEnv): string {
  const named = env.USER ?? env.LOGNAME;
  if (named !== undefined) return named;
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** "user@host", as locks, journals and operator actions name whoever acted. */
export function operatorName(env: NodeJS.ProcessEnv): string {
  return `${userName(env)}@${os.hostname()}`;
}

/** The lock this process takes on a state folder for a plan: its pid, the operator and this machine. */
export function lockOwner(planName: string, startedAt: number, env: NodeJS.ProcessEnv): LockInfo {
  return { ...thisProcess(), planName, startedAt, user: operatorName(env), host: os.hostname() };
}
