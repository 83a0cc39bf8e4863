// STATE_DIR/proxy.json: where a running proxy and its admin API are, so a rollout on the same machine finds
// them through the state folder. Addresses and a pid (with its start time) only: the admin token is never written down.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { describeFsError } from '../core/errors.js';
import { parseObject } from '../core/json.js';
import { readCapped } from '../core/read-capped.js';
import { readRegularFile } from '../core/read-regular-file.js';
import { UsageError } from '../core/exit.js';
import { makeFolder, writeFileAtomic } from '../state/files.js';
import { isProcessAlive, type ProcessIdentity } from '../core/proc-stat.js';
import { isEpochMs } from '../core/clock.js';

export const PROXY_INFO_FILE = 'proxy.json';

/** The proxy's process (its pid, start time and boot: ProcessIdentity), and its addresses. */
export interface ProxyInfo extends ProcessIdentity {
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
    makeFolder(stateDir);
    writeFileAtomic(file, `${JSON.stringify(info, null, 2)}\n`);
  } catch (error) {
    throw new UsageError(
      `cannot write ${file}: ${describeFsError(error, file)}; the proxy keeps its address and route in its state folder (--state-dir, BLUEGREEN_STATE_DIR)`,
    );
  }
}

/** proxy.json is a few lines; a named pipe or a device in its place is not read (it would block, or never end). */
const MAX_INFO_BYTES = 64 * 1024;

export function readProxyInfo(stateDir: string): ProxyInfo | undefined {
  try {
    const value = JSON.parse(readRegularFile(path.join(stateDir, PROXY_INFO_FILE), MAX_INFO_BYTES).toString('utf8')) as Partial<ProxyInfo>;
    if (typeof value.pid !== 'number' || typeof value.url !== 'string' || !isEpochMs(value.startedAt)) return undefined;
    return {
      pid: value.pid,
      ...(typeof value.pidStart === 'string' && { pidStart: value.pidStart }),
      ...(typeof value.bootId === 'string' && { bootId: value.bootId }),
      url: value.url,
      startedAt: value.startedAt,
      ...(typeof value.adminUrl === 'string' && { adminUrl: value.adminUrl }),
    };
  } catch {
    return undefined;
  }
}

/**
 * Refuses to start a second proxy on a state folder whose proxy still runs: the newer one would take proxy.json
 * (a rollout on the folder then drives it alone, the first serving undriven and unjudged), stopping it would
 * remove the file the first still needs, and both would write one route file. "Still runs" is its process alive
 * and a bluegreen proxy answering at its address: a pid alone may be reused (containers restart with the same small
 * pids), another server may have the port since, and a draining proxy has closed its port, so its replacement may
 * start at once.
 */
export async function refuseRunningProxy(stateDir: string, self: number): Promise<void> {
  const info = readProxyInfo(stateDir);
  if (!info || info.pid === self || !isProcessAlive(info) || !(await answers(info.url))) return;
  throw new UsageError(
    `another bluegreen proxy (pid ${info.pid}, ${info.url}) runs on the state folder ${stateDir}: a rollout there would find only one of them. ` +
      'Give each proxy its own --state-dir (and list their admin URLs in proxy.controller.admin_urls), or stop the other one first',
  );
}

/**
 * The most of a /healthz answer read. A proxy's is under 200 bytes; another server now on the recorded port may
 * send without end, which was read whole (into memory, at loopback speed, for the second allowed) before.
 */
export const MAX_HEALTHZ_BYTES = 64 * 1024;

/** Whether a bluegreen proxy answers at `url` within a second: its /healthz names a route (another server there does not). */
async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
    const whole = response.body === null ? undefined : await readCapped(response.body, MAX_HEALTHZ_BYTES);
    if (whole === undefined) return false;
    const body = parseObject(whole.toString('utf8'));
    return body !== undefined && typeof body.route === 'object' && body.route !== null;
  } catch {
    return false;
  }
}

/**
 * Who holds `where` (host:port), for the error of a proxy that could not listen there: a live bluegreen proxy that
 * one of `stateDirs` records there (its pid and folder), else undefined. (Asking the port itself is not done: a
 * program there that never answers held the connection, and the failing start, open.)
 */
export function proxyHolding(where: string, stateDirs: readonly string[]): string | undefined {
  for (const dir of new Set(stateDirs)) {
    const info = readProxyInfo(dir);
    if (info && hostPort(info.url) === where && isProcessAlive(info)) return `another bluegreen proxy (pid ${info.pid}, state folder ${dir})`;
  }
  return undefined;
}

function hostPort(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

/** Removes the file if it still names this process (another proxy may have taken the folder since). */
export function removeProxyInfo(stateDir: string, pid: number): void {
  if (readProxyInfo(stateDir)?.pid === pid) rmSync(path.join(stateDir, PROXY_INFO_FILE), { force: true });
}
