// STATE_DIR/proxy.lock: one proxy per state folder, claimed before the proxy listens. discovery.ts's check of
// proxy.json runs before listening and the file is written after, so two proxies started together on one folder
// both passed it; an exclusive create cannot be won twice. The file names its holder (pid, start time, boot) and
// the claim (one per started proxy: a proxy restarted within one process, as tests do, holds its own).
import { randomUUID } from 'node:crypto';
import { linkSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describeFsError, errorCode } from '../core/errors.js';
import { UsageError } from '../core/exit.js';
import { isProcessAlive, thisProcess, type ProcessIdentity } from '../core/proc-stat.js';
import { readRegularFile } from '../core/read-regular-file.js';
import { makeFolder } from '../state/files.js';
import { PROXY_INFO_FILE } from './discovery.js';

export const PROXY_LOCK_FILE = 'proxy.lock';

interface Holder extends ProcessIdentity {
  claim: string;
}

function readHolder(file: string): Holder | undefined {
  try {
    const value = JSON.parse(readRegularFile(file, 4096).toString('utf8')) as Partial<Holder>;
    if (typeof value.pid !== 'number' || typeof value.claim !== 'string') return undefined;
    return {
      pid: value.pid,
      claim: value.claim,
      ...(typeof value.pidStart === 'string' && { pidStart: value.pidStart }),
      ...(typeof value.bootId === 'string' && { bootId: value.bootId }),
    };
  } catch {
    return undefined;
  }
}

/**
 * Claims `stateDir` for this proxy, or refuses (exit 2) while another live process holds it. A claim whose holder is
 * dead (killed before it could let go), this process (a proxy it started before), or unreadable is taken over.
 * Returns what releaseFolder needs.
 */
export function claimFolder(stateDir: string): string {
  const file = path.join(stateDir, PROXY_LOCK_FILE);
  const self = { ...thisProcess(), claim: randomUUID() };
  const text = `${JSON.stringify(self)}\n`;
  try {
    makeFolder(stateDir);
  } catch (error) {
    // Said of proxy.json, as the proxy said it before it claimed the folder: what it keeps there.
    const info = path.join(stateDir, PROXY_INFO_FILE);
    throw new UsageError(
      `cannot write ${info}: ${describeFsError(error, info)}; the proxy keeps its address and route in its state folder (--state-dir, BLUEGREEN_STATE_DIR)`,
    );
  }
  // Written whole beside it, then linked into place: a link is created whole or not at all (EEXIST), so no proxy
  // reads a claim half written (an empty file would read as stale, and be taken over).
  const written = `${file}.${self.claim}`;
  try {
    writeFileSync(written, text, { flag: 'wx' });
  } catch (error) {
    throw new UsageError(
      `cannot write ${written}: ${describeFsError(error, written)}; the proxy claims its state folder there (--state-dir, BLUEGREEN_STATE_DIR)`,
    );
  }
  try {
    // Twice at most: the second after a stale claim is removed.
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(written, file);
        return self.claim;
      } catch (error) {
        if (errorCode(error) !== 'EEXIST' || attempt > 0)
          throw new UsageError(
            `cannot write ${file}: ${describeFsError(error, file)}; the proxy claims its state folder there (--state-dir, BLUEGREEN_STATE_DIR)`,
          );
      }
      refuseLiveHolder(file, stateDir);
      // Stale. Two proxies finding the same stale claim at once may both remove it: rare (a crash, then a double start).
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(written, { force: true });
  }
}

function refuseLiveHolder(file: string, stateDir: string): void {
  const holder = readHolder(file);
  if (holder && holder.pid !== process.pid && isProcessAlive(holder))
    throw new UsageError(
      `another bluegreen proxy (pid ${holder.pid}) is starting or runs on the state folder ${stateDir} (${PROXY_LOCK_FILE}): a rollout there would find only one of them. ` +
        'Give each proxy its own --state-dir (and list their admin URLs in proxy.controller.admin_urls), or stop the other one first',
    );
}

/** Lets the folder go, if the claim there is still this one (a replacement may hold it since). */
export function releaseFolder(stateDir: string, claim: string): void {
  const file = path.join(stateDir, PROXY_LOCK_FILE);
  if (readHolder(file)?.claim === claim) rmSync(file, { force: true });
}
