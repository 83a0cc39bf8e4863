// STATE_DIR/proxy.json: where a running proxy and its admin API are, so a rollout on the same machine finds
// them through the state folder. Addresses and a pid only: the admin token is never written down.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describeFsError } from '../core/errors.js';
import { UsageError } from '../core/exit.js';
import { writeFileAtomic } from '../state/files.js';

export const PROXY_INFO_FILE = 'proxy.json';

export interface ProxyInfo {
  pid: number;
  url: string;
  adminUrl?: string;
  startedAt: number;
}

/**
 * Creates the state folder if need be and writes the file. A folder the proxy cannot write (a full disk, a path
 * through a file, no permission) is the operator's to fix: a usage error saying which and why (exit 2, as for a
 * rollout's state folder), not an internal error.
 */
export function writeProxyInfo(stateDir: string, info: ProxyInfo): void {
  const file = path.join(stateDir, PROXY_INFO_FILE);
  try {
    mkdirSync(stateDir, { recursive: true });
    writeFileAtomic(file, `${JSON.stringify(info, null, 2)}\n`);
  } catch (error) {
    throw new UsageError(
      `cannot write ${file}: ${describeFsError(error, file)}; the proxy keeps its address and route in its state folder (--state-dir, BLUEGREEN_STATE_DIR)`,
    );
  }
}

export function readProxyInfo(stateDir: string): ProxyInfo | undefined {
  try {
    const value = JSON.parse(readFileSync(path.join(stateDir, PROXY_INFO_FILE), 'utf8')) as Partial<ProxyInfo>;
    if (typeof value.pid !== 'number' || typeof value.url !== 'string' || typeof value.startedAt !== 'number') return undefined;
    return { pid: value.pid, url: value.url, startedAt: value.startedAt, ...(typeof value.adminUrl === 'string' && { adminUrl: value.adminUrl }) };
  } catch {
    return undefined;
  }
}

/** Removes the file if it still names this process (another proxy may have taken the folder since). */
export function removeProxyInfo(stateDir: string, pid: number): void {
  if (readProxyInfo(stateDir)?.pid === pid) rmSync(path.join(stateDir, PROXY_INFO_FILE), { force: true });
}
