// The route file in a proxy's state folder: read once at the start (a promotion survives a restart), rewritten
// atomically after every change (newest write wins), and left alone once the proxy drains (the file is then the
// replacement's). Beside the route it keeps a lapsed lease's hold (RouteHolder.lapsedHolder), so a proxy restarted
// during one still holds the route from other runs.
import { access } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomicAsync } from '../state/files.js';
import { isObject } from '../core/json.js';
import { readRegularFile } from '../core/read-regular-file.js';
import { BLUE_ROUTE, describeRoute, LEASE_EXPIRED, ownerBlueModel, parseRoute, ROUTE_FILE, touchesGreen, UNSAVED_FIX, type Route } from './route.js';

/** A saved route is a few hundred bytes; far more is not a route file (and is not read into memory). */
const MAX_ROUTE_BYTES = 1024 * 1024;

/** Blue as the change after the refused content of a route file: its revision + 1 (a damaged file's too, if it holds one). */
function blueAfter(refused: unknown): Route {
  const revision = isObject(refused) ? refused.revision : undefined;
  return Number.isSafeInteger(revision) && (revision as number) >= 0 ? { ...BLUE_ROUTE, revision: (revision as number) + 1 } : { ...BLUE_ROUTE };
}

/**
 * A lease the proxy applied as run out (its wall clock set forward) while it may still run on the steady clock: the
 * lapsed route, and the most steady time it could still run. Saved as `lapsedHold` beside the lease-expired route.
 * A restarted proxy cannot know how much steady time passed while it was down, so it holds for all of `leftMs`
 * again: never less than the holder may still renew for, and at most the lease's length (its TTL). `notAfter`
 * (wall clock) bounds that across restarts: the lapse's time plus the lease's length, carried unchanged by every
 * restart, so a proxy in a restart loop does not hold for `leftMs` anew at each start (absent in files from before
 * session 29: counted from the restart that reads one).
 */
export interface LapsedHold {
  route: Route;
  leftMs: number;
  notAfter?: number;
}

/** What the route file holds: the route, and a lapsed lease's hold when there is one. */
export interface SavedRoute {
  route: Route;
  lapsedHold?: LapsedHold;
}

/** The `lapsedHold` of a route file's content, checked; undefined (no hold) when absent (a file from before it) or not one. */
function parseHold(value: unknown): LapsedHold | undefined {
  if (!isObject(value)) return undefined;
  const route = parseRoute(value.route);
  const leftMs = value.leftMs;
  if (!route || typeof leftMs !== 'number' || !Number.isFinite(leftMs) || leftMs <= 0) return undefined;
  const notAfter = value.notAfter;
  return { route, leftMs, ...(typeof notAfter === 'number' && Number.isFinite(notAfter) && { notAfter }) };
}

/** Another plan a saved route was recorded for: its routeOwner() and its blue model (when known). */
export interface RecordedPlan {
  owner: string;
  blueModel: string | undefined;
}

export class RouteFile {
  private readonly file?: string;
  private writing?: Promise<void>;
  private pendingWrite = false;
  /** Set by detach(): changes stay in memory, the folder's route file is left to the next proxy. */
  private detached = false;
  /** Why the last write failed; cleared by the next that succeeds. */
  private saveError?: string;
  /** The last write failed because the state folder is gone (moved or deleted since the proxy started). */
  private folderGone = false;
  /** What the file holds (the last route written, or read at the start): what a restart would serve. */
  private saved?: Route;
  /** The plan the file's route was recorded for at the start, when not this proxy's: a previous plan's (read()). */
  private recordedForOther?: RecordedPlan;

  /** No state folder keeps the route in memory only. `onNotice` is told when a write fails or a file is refused. */
  constructor(
    stateDir: string | undefined,
    private readonly onNotice?: (message: string) => void,
  ) {
    this.file = stateDir === undefined ? undefined : path.join(stateDir, ROUTE_FILE);
  }

  /**
   * The saved route, or undefined (serve blue) when there is none, or blue when it is not a route or was recorded for
   * another plan or other models than `owner` (routeOwner) and sends anything to green. That blue is a route change
   * over the file's: its revision is one more than the file's (when it names one), so revisions never go back and a
   * caller's ifRevision read of the refused route is not taken for the blue served in its place. A lapsed lease's
   * hold comes back with the lease-expired route it was saved with, never with another.
   */
  read(owner: string | undefined): SavedRoute | undefined {
    if (!this.file) return undefined;
    let text: string;
    try {
      text = readRegularFile(this.file, MAX_ROUTE_BYTES).toString('utf8');
    } catch {
      // No route file yet: a proxy that was never driven serves blue. So does one whose file is a named pipe or a
      // device (read as is, it would block the proxy for good, or never end).
      return undefined;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const route = parseRoute(parsed);
    this.saved = route;
    if (route?.rollout !== undefined && owner !== undefined && route.rollout !== owner)
      this.recordedForOther = { owner: route.rollout, blueModel: route.blueModel ?? ownerBlueModel(route.rollout) };
    if (!route) {
      this.onNotice?.(`${this.file} is not a route; serving blue`);
      return { route: blueAfter(parsed) };
    }
    if (owner !== undefined && route.rollout !== owner && touchesGreen(route)) {
      // Another plan's green (a promotion left in a shared folder) is not this plan's: fail toward blue.
      this.onNotice?.(`${this.file} was recorded for ${route.rollout ?? 'another plan'}, not ${owner}: its route is not applied; serving blue`);
      return { route: blueAfter(route) };
    }
    let lapsedHold = route.reason === LEASE_EXPIRED && isObject(parsed) ? parseHold(parsed.lapsedHold) : undefined;
    // A lease-expired route sends nothing to green, so it passed the check above: its hold is checked here.
    if (lapsedHold && owner !== undefined && lapsedHold.route.rollout !== owner) {
      this.onNotice?.(`${this.file} holds a lapsed lease of ${lapsedHold.route.rollout ?? 'another plan'}, not ${owner}: its hold is not applied`);
      lapsedHold = undefined;
    }
    return { route, ...(lapsedHold && { lapsedHold }) };
  }

  /** Writes `current()` (read when the write starts: a change made meanwhile is written after it). */
  save(current: () => SavedRoute): void {
    const file = this.file;
    if (!file || this.detached) return;
    if (this.writing) {
      this.pendingWrite = true;
      return;
    }
    const write = async (): Promise<void> => {
      do {
        this.pendingWrite = false;
        try {
          // Checked, not made again when gone (moved or deleted since the start made it): a folder made by this path
          // would hold neither the proxy's claim nor its address, and a second proxy could claim it and share the file.
          await access(path.dirname(file));
          // A change not yet written as the proxy began draining is not: the file is the next proxy's now.
          if (this.detached) return;
          const { route, lapsedHold } = current();
          await writeFileAtomicAsync(file, `${JSON.stringify({ ...route, ...(lapsedHold && { lapsedHold }) }, null, 2)}\n`);
          this.saved = route;
          this.saveError = undefined;
          this.folderGone = false;
        } catch (error) {
          // The code says why (ENOSPC, EROFS, EACCES); node's message repeats the path, twice for a rename.
          const code = (error as NodeJS.ErrnoException).code;
          const gone = code === 'ENOENT' ? ' (its state folder was moved or deleted since the proxy started)' : '';
          this.folderGone = code === 'ENOENT';
          this.saveError = `could not save the route to ${file}: ${code ?? (error as Error).message}${gone}`;
          this.onNotice?.(this.saveError);
        }
      } while (this.pendingWrite);
    };
    this.writing = write().finally(() => {
      this.writing = undefined;
    });
  }

  /** The proxy is draining: from now on the file is the replacement's. */
  detach(): void {
    this.detached = true;
  }

  /** Waits for the last write to reach the disk. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /**
   * The plan (its routeOwner() and blue model) the file's route was recorded for when the proxy started, when it was not this proxy's
   * (the previous plan's, after "making green the new blue"): its blue model may still be what the application asks for.
   */
  get recordedFor(): RecordedPlan | undefined {
    return this.recordedForOther;
  }

  /** Why the last write failed, or undefined. */
  get unsaved(): string | undefined {
    return this.saveError;
  }

  /**
   * What lets routes be saved again, when the last write failed: a folder that is gone is not made again (a second
   * proxy could claim it), so only a proxy started on a folder saves; a full or read-only one is freed.
   */
  get unsavedFix(): string | undefined {
    if (this.saveError === undefined) return undefined;
    if (!this.folderGone || !this.file) return UNSAVED_FIX;
    return `its state folder ${path.dirname(this.file)} is gone (moved or deleted since the proxy started) and is not made again: restart the proxy on its state folder (--state-dir where the folder now is, or that path, which it makes afresh)`;
  }

  /** Whether the file as last saved holds a promotion (which has no lease): a restart would serve green for good. */
  get savedPromotion(): boolean {
    return this.saved !== undefined && touchesGreen(this.saved) && this.saved.promotedArm === 'green';
  }

  /** What a restart at `now` would serve from the file as last saved (RouteHolder.restartWouldServe). */
  restartWouldServe(now: number): string {
    const saved = this.saved;
    if (saved === undefined || !touchesGreen(saved)) return 'blue';
    if (saved.promotedArm === 'green') return `green: the promotion saved there has no lease (${describeRoute(saved)})`;
    const lease = saved.leaseExpiresAt;
    if (lease === undefined || lease <= now) return 'blue (the route saved there, its lease run out)';
    return `${describeRoute(saved)} until its lease runs out at ${new Date(lease).toISOString()}, then blue`;
  }
}
