// Where the state folder is and what lives in it. Paths only; no I/O beyond making it and atomic writes.
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { errorCode } from '../core/errors.js';
import { shownPath } from '../core/paths.js';

export const STATE_FILE = 'state.json';
export const EVENTS_FILE = 'events.jsonl';
export const PREV_STATE_FILE = 'state.prev.json';
export const PREV_EVENTS_FILE = 'events.prev.jsonl';
export const LOCK_FILE = 'lock';
export const CONTROL_DIR = 'control';
/** The running hook's record (hook-record.ts). */
export const HOOK_FILE = 'hook.json';
/** A live rollout's view of its proxies (src/live/controller.ts writes it, src/live/live-file.ts reads it). */
export const LIVE_VIEW_FILE = 'live.json';
/** Room a rollout sets aside for its finished line, given back when the disk fills (StateStore.setRoomAside). */
export const ROOM_FILE = '.ending-room';

/** `--state-dir`, else `$BLUEGREEN_STATE_DIR`, else `.bluegreen` in cwd; always absolute. */
export function stateDir(option: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  const chosen = nonEmpty(option) ?? nonEmpty(env.BLUEGREEN_STATE_DIR) ?? '.bluegreen';
  return path.resolve(cwd, chosen);
}

/**
 * " --state-dir .bluegreen-rollback" for a command a message suggests, so it reads the same folder ("" for the default
 * .bluegreen here): the folder relative to cwd when inside it, quoted for a shell when it needs to be.
 */
export function stateDirFlag(dir: string, cwd: string): string {
  if (path.resolve(cwd, dir) === path.resolve(cwd, '.bluegreen')) return '';
  const shown = shownPath(dir, cwd);
  return ` --state-dir ${/^[\w./-]+$/.test(shown) ? shown : `'${shown.replaceAll("'", `'\\''`)}'`}`;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== '' ? value : undefined;
}

/**
 * mkdir -p, one level at a time. Node's recursive mkdir reports a read-only file system as ENOENT ("the folder does
 * not exist"), and under /proc, where mkdir answers ENOENT, it retries forever at full CPU (`--state-dir
 * /proc/x/y` hung); a level made on its own throws the real reason once. Throws EEXIST when dir is a file.
 */
export function makeFolder(dir: string): void {
  const target = path.resolve(dir);
  const missing: string[] = [];
  for (let at = target; !existsSync(at) && path.dirname(at) !== at; at = path.dirname(at)) missing.unshift(at);
  for (const level of missing) {
    try {
      mkdirSync(level);
    } catch (error) {
      // Its parent exists (made or found just before), so ENOENT means this file system makes no folders here
      // (/proc): "the folder /proc/x does not exist" said nothing of why it could not be made.
      if (errorCode(error) === 'ENOENT') throw new Error(`no folder can be made in ${path.dirname(level)}`, { cause: error });
      if (errorCode(error) !== 'EEXIST') throw error;
    }
  }
  // Every level exists now: this returns at once, or says EEXIST for a file.
  mkdirSync(target, { recursive: true });
}

/** A name no other writer (process or call) will pick, so temp files never collide. */
export function uniqueSuffix(): string {
  return `${process.pid}.${randomBytes(6).toString('hex')}`;
}

/**
 * Writes text to file so that readers see either the old or the new content, never a mix: the temp file
 * lives in the same folder (rename is only atomic within one filesystem) and is fsynced before the rename,
 * so a crash cannot leave a renamed-but-empty file either.
 */
export function writeFileAtomic(file: string, text: string): void {
  replaceFileSync(file, text, { durable: true });
  fsyncDir(path.dirname(file));
}

/**
 * Writes text to file through a temp sibling and a rename: a disk too full for the new bytes fails the temp file, and
 * the old content stays whole (an in-place writeFileSync cuts the file to nothing first, then fails). `durable`
 * fsyncs the temp file before the rename (writeFileAtomic); without it the result only survives a killed process,
 * not a power cut. Its temp file is `.<name>.<pid>.<id>.tmp` (a kill mid-write leaves it: StateStore.reset).
 */
export function replaceFileSync(file: string, text: string, options: { durable?: boolean } = {}): void {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${uniqueSuffix()}.tmp`);
  try {
    const fd = openSync(temp, 'wx', 0o644);
    try {
      writeAllSync(fd, Buffer.from(text, 'utf8'));
      if (options.durable === true) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/**
 * Appends text whole or not at all: a disk that fills part-way (ENOSPC after a short write) has the file cut back to
 * its size before, so no torn line is left for the next append to be glued to (a reader would lose both).
 */
export function appendWholeSync(file: string, text: string): void {
  const fd = openSync(file, 'a', 0o666);
  try {
    const size = fstatSync(fd).size;
    try {
      writeAllSync(fd, Buffer.from(text, 'utf8'));
    } catch (error) {
      try {
        ftruncateSync(fd, size);
      } catch {
        // Left torn: the next process's first append starts on a new line (StateStore.tornTailFix).
      }
      throw error;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * write(2) may take fewer bytes than asked (a disk filling up takes what fits): loop until all is written, so
 * the next write reports ENOSPC instead of the file silently ending at a 4 KiB boundary.
 */
function writeAllSync(fd: number, data: Buffer): void {
  let offset = 0;
  while (offset < data.length) {
    const written = writeSync(fd, data, offset, data.length - offset);
    if (written <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    offset += written;
  }
}

/**
 * The same contract as writeFileAtomic, with every step on libuv's thread pool: a rollout sending thousands of
 * requests a second cannot afford to stop its event loop for an fsync (several ms on a busy disk).
 */
export async function writeFileAtomicAsync(file: string, text: string): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${uniqueSuffix()}.tmp`);
  try {
    const handle = await open(temp, 'wx', 0o644);
    try {
      // FileHandle.writeFile loops over short writes itself.
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await fsyncDirAsync(dir);
}

async function fsyncDirAsync(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // As in fsyncDir: not supported everywhere, and the rename is atomic without it.
  }
}

/** Makes the rename itself durable; best effort, since some platforms cannot fsync a folder. */
function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Not supported here (e.g. Windows); the rename is still atomic, only less durable on power loss.
  }
}
