// The stopping proxy's side of the handover (handover.ts): while it drains, the results its rollout has not read go
// to STATE_DIR/proxy-handover/EPOCH.jsonl as they end, appended in batches. Each write costs what is new: the
// version before rewrote every unread result every 200 ms, O(n) per write and O(n^2) over a drain with many unread,
// on the event loop that serves the requests still finishing. Writes are async and one at a time.
import { appendFile, open } from 'node:fs/promises';
import path from 'node:path';
import { unrefTimer, type TimerHandle } from '../core/clock.js';
import { errorText } from '../core/errors.js';
import type { ProcessIdentity } from '../core/proc-stat.js';
import { makeFolder, writeFileAtomicAsync } from '../state/files.js';
import { endLine, HANDOVER_DIR, headerLine, linesFileName } from './handover-format.js';
import type { ResultsFeed } from './results-feed.js';

/** A draining proxy appends at most this long after a result: the rollout reads it soon after. */
export const HANDOVER_WRITE_MS = 200;
/** Results per write: a backlog (every unread result, at the drain's start) goes in slices the event loop can interleave. */
const BATCH = 5_000;

/** The writer's process (thisProcess()) goes in the file's header, so its replacement can tell when it is gone. */
export interface HandoverWriterOptions extends ProcessIdentity {
  stateDir: string;
  feed: ResultsFeed;
  /** The rollout run driving the proxy when it began to stop: only results served under its routes are wanted. */
  controller: string;
  log?: (message: string) => void;
  /** Default: setTimeout, not holding the process open. A test's fake clock drives the batching instead. */
  setTimer?: (fn: () => void, ms: number) => TimerHandle;
}

/** The stopping proxy's unread results, appended as more come in; no file while there are none. */
export class HandoverWriter {
  readonly file: string;
  /** Writes made (the file's creation among them): what the drain cost, counted by tests and bench/tools/handover-work.js. */
  appends = 0;
  private timer?: TimerHandle;
  /** Writes run one after another, in this chain. */
  private queue: Promise<boolean> = Promise.resolve(true);
  private writing = false;
  /** A result came while a write was in flight: that write goes on with it. */
  private again = false;
  /** The feed's number of the last result looked at: the next batch starts after it. */
  private handedUpTo = 0;
  /** The file exists with its header (made whole by a rename: a reader never sees a torn header). */
  private created = false;
  private lines = 0;
  /** Results past the cap (the feed's capacity, as many as the version before held): not handed over. */
  private dropped = 0;
  /** An append failed: what it left may be a torn line, which the next one ends first (the reader skips it). */
  private torn = false;
  /** The last write is queued: a result recorded after it (none should be) cannot append past the final line. */
  private finished = false;

  constructor(private readonly options: HandoverWriterOptions) {
    this.file = path.join(options.stateDir, HANDOVER_DIR, linesFileName(options.feed.epoch));
  }

  /** A result came: appended within HANDOVER_WRITE_MS (or by the write in flight, which goes on while there are more). */
  schedule(): void {
    if (this.timer || this.finished) return;
    this.timer = (this.options.setTimer ?? unrefTimer)(() => {
      this.timer = undefined;
      if (this.writing) this.again = true;
      else void this.flush();
    }, HANDOVER_WRITE_MS);
  }

  /** Appends what is unread now, after the write in flight. False when a write failed. */
  flush(): Promise<boolean> {
    return this.finished ? this.queue : this.enqueue(false);
  }

  /**
   * The last write, once every request has ended: what is left, then the final line. False when a write failed or
   * results went past the cap (they are lost to the rollout, and the files this proxy adopted from must stay).
   */
  finish(): Promise<boolean> {
    this.timer?.cancel();
    this.timer = undefined;
    this.finished = true;
    return this.enqueue(true);
  }

  private enqueue(final: boolean): Promise<boolean> {
    this.queue = this.queue.then(() => this.appendPending(final));
    return this.queue;
  }

  private async appendPending(final: boolean): Promise<boolean> {
    this.writing = true;
    this.again = false;
    try {
      for (;;) {
        const batch = this.nextBatch();
        const last = batch.done && final;
        // The final line only in a file there is: with nothing ever unread, no file at all.
        const end = last && (this.created || batch.count > 0) ? endLine(this.lines + batch.count, this.dropped + batch.dropped) : '';
        const appending = this.created;
        if (batch.text + end !== '' && !(await this.write(batch.text + end, batch.count))) return false;
        this.handedUpTo = batch.upTo;
        this.lines += batch.count;
        if (batch.dropped > 0 && this.dropped === 0)
          this.options.log?.(`${this.file} holds ${this.lines} results, its cap: the rest the rollout has not read are not handed over (not judged)`);
        this.dropped += batch.dropped;
        // A file made whole in the last write was fsynced by its rename.
        if (last && appending) await this.sync();
        if (batch.done && (last || !this.again)) break;
        this.again = false;
      }
      return !final || this.dropped === 0;
    } finally {
      this.writing = false;
    }
  }

  /** The next slice of unread results as lines, and those past the cap; `done` when it reaches the feed's newest. */
  private nextBatch(): { text: string; count: number; dropped: number; upTo: number; done: boolean } {
    const { feed, controller } = this.options;
    const { results, upTo } = feed.handOver(controller, this.handedUpTo, BATCH);
    const room = Math.max(0, feed.capacity - this.lines);
    const dropped = Math.max(0, results.length - room);
    const kept = dropped > 0 ? results.slice(0, room) : results;
    const text = kept.map((entry) => `${JSON.stringify(entry)}\n`).join('');
    return { text, count: kept.length, dropped, upTo, done: upTo >= feed.cursor };
  }

  private async write(text: string, count: number): Promise<boolean> {
    this.appends++;
    try {
      if (!this.created) {
        // Made again if the state folder was moved or deleted (unlike a route save, route-file.ts): the proxy started
        // next on the configured path reads its handover there, and this draining proxy claims nothing in it.
        makeFolder(path.dirname(this.file));
        await writeFileAtomicAsync(this.file, headerLine(this.options.feed.epoch, this.options) + text);
        this.created = true;
        return true;
      }
      // Opened for each write (a few a second at most): no handle is left open by a drain cut short. It loops over
      // short writes itself.
      await appendFile(this.file, this.torn ? `\n${text}` : text);
      this.torn = false;
      return true;
    } catch (error) {
      this.torn = this.created;
      this.options.log?.(
        `cannot hand ${count} results the rollout has not read over to ${this.file} (${errorText(error)}): tried again at the next write; lost to the rollout if none succeeds`,
      );
      return false;
    }
  }

  /** Its last line is appended: flushed to disk (best effort; a proxy's crash loses nothing written without it). */
  private async sync(): Promise<void> {
    try {
      const handle = await open(this.file, 'a');
      await handle.sync().finally(() => handle.close());
    } catch {
      // The lines are written; only a power loss could still cost them.
    }
  }
}
