// STATE_DIR/proxy.lock: one proxy per state folder, claimed before the proxy listens. discovery.ts's check of
// proxy.json runs before listening and the file is written after, so two proxies started together on one folder
// both passed it; an exclusive create cannot be won twice. The file names its holder (pid, start time, boot) and
// the claim (one per started proxy: a proxy restarted within one process, as tests do, holds its own).
import { randomUUID } from 'node:crypto';
import { linkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
export function claimFolder(stateDir: string, options: ClaimOptions = {}): string {
  const file = path.join(stateDir, PROXY_LOCK_FILE);
  const self = { ...(options.identity ?? thisProcess()), claim: randomUUID() };
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
  const aside = `${written}.stale`;
  try {
    // A few rounds at most: each after a stale claim is moved aside, or another proxy's found where it was.
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(written, file);
        return self.claim;
      } catch (error) {
        if (errorCode(error) !== 'EEXIST')
          throw new UsageError(
            `cannot write ${file}: ${describeFsError(error, file)}; the proxy claims its state folder there (--state-dir, BLUEGREEN_STATE_DIR)`,
          );
        // A claim back in place after each takeover (a live proxy's is refused at once): others claiming it together.
        if (attempt >= MAX_ROUNDS)
          throw new UsageError(
            `cannot claim the state folder ${stateDir}: a claim was back in ${file} each of the ${MAX_ROUNDS} times this proxy took one over ` +
              `(other proxies starting on the folder at the same moment, or something else writing that file). Run one proxy per state folder (--state-dir), then start this one again`,
          );
      }
      const judged = refuseLiveHolder(file, stateDir);
      options.judged?.();
      takeOver(file, aside, judged);
    }
  } finally {
    rmSync(written, { force: true });
    rmSync(aside, { force: true });
  }
}

/** Rounds of claimFolder past its first link: each ends with a stale claim gone or another proxy's back in place. */
const MAX_ROUNDS = 4;

export interface ClaimOptions {
  /** The claimer as the claim names it (tests: another live process's, so that two claimers in one process refuse each other). */
  identity?: ProcessIdentity;
  /** Tests: called once the claim in place is judged stale, before it is taken over (another claimer may run here). */
  judged?: () => void;
}

/**
 * Removes the stale claim `judged` (its holder, or undefined: unreadable) from `file`. Two proxies finding the same
 * stale claim both removed whatever was there, the second perhaps the first's new claim, and both started. Moved
 * aside instead, to a name of this claimer's own, and compared there: a claim that is not the one judged (another
 * proxy's since) is put back, and the next round judges it.
 */
function takeOver(file: string, aside: string, judged: Holder | undefined): void {
  try {
    renameSync(file, aside);
  } catch (error) {
    // Moved aside by another claimer first: the next round links, or judges what is there then.
    if (errorCode(error) === 'ENOENT') return;
    throw new UsageError(
      `cannot move ${file} aside: ${describeFsError(error, file)}; the proxy claims its state folder there (--state-dir, BLUEGREEN_STATE_DIR)`,
    );
  }
  if (readHolder(aside)?.claim !== judged?.claim) {
    // Put back without replacing: a claim linked meanwhile (a third proxy's, finding none) keeps its place, and this one's holder loses it.
    try {
      linkSync(aside, file);
    } catch {
      // EEXIST: as said. Anything else: the next round's link says it.
    }
  }
  rmSync(aside, { force: true });
}

/** The claim in `file`, if its holder is dead, this process, or unreadable (stale); refuses a live holder's. */
function refuseLiveHolder(file: string, stateDir: string): Holder | undefined {
  const holder = readHolder(file);
  if (holder && holder.pid !== process.pid && isProcessAlive(holder))
    throw new UsageError(
      `another bluegreen proxy (pid ${holder.pid}) is starting or runs on the state folder ${stateDir} (${PROXY_LOCK_FILE}): a rollout there would find only one of them. ` +
        'Give each proxy its own --state-dir (and list their admin URLs in proxy.controller.admin_urls), or stop the other one first',
    );
  return holder;
}

/** Lets the folder go, if the claim there is still this one (a replacement may hold it since). */
export function releaseFolder(stateDir: string, claim: string): void {
  const file = path.join(stateDir, PROXY_LOCK_FILE);
  if (readHolder(file)?.claim === claim) rmSync(file, { force: true });
}
