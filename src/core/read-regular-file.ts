// Reading a whole file that should be a regular one of bounded size: a named pipe, a device (a link to /dev/zero)
// or a runaway file put in its place would otherwise block the process for good, or grow it until it is killed.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

const READ_CHUNK_BYTES = 64 * 1024;

/** What a path that is not a regular file is, for messages ("… is a named pipe"). */
function fileKind(stats: Stats): string {
  if (stats.isFIFO()) return 'a named pipe';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  if (stats.isDirectory()) return 'a folder';
  return 'not a regular file';
}

/** The path is not a regular file (`kind` says what it is), or holds more than the cap (`kind` undefined). */
export class IrregularFileError extends Error {
  constructor(
    readonly file: string,
    readonly kind: string | undefined,
    readonly maxBytes: number,
  ) {
    super(kind === undefined ? `${file} is larger than ${maxBytes} bytes` : `${file} is ${kind}, not a regular file`);
    this.name = 'IrregularFileError';
  }
}

/**
 * The bytes of a regular file of at most `maxBytes`. Opened without blocking (opening a named pipe for reading
 * waits for a writer, forever) and read until its end rather than the size fstat gives (a file can grow, /proc
 * files say 0), stopping one chunk past the cap. Errors from open (ENOENT...) are thrown as they are.
 */
export function readRegularFile(file: string, maxBytes: number): Buffer {
  const fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new IrregularFileError(file, fileKind(stats), maxBytes);
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.alloc(READ_CHUNK_BYTES);
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      chunks.push(chunk.subarray(0, read));
      length += read;
      if (length > maxBytes) throw new IrregularFileError(file, undefined, maxBytes);
    }
    return Buffer.concat(chunks, length);
  } finally {
    closeSync(fd);
  }
}

/**
 * The last `bytes` bytes of a regular file (all of it when smaller), and whether that is from its start: a reader of
 * a long journal's last lines reads those, not the whole file. Irregular files are refused as readRegularFile does.
 */
export function readRegularFileTail(file: string, bytes: number): { buffer: Buffer; fromStart: boolean } {
  const fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new IrregularFileError(file, fileKind(stats), bytes);
    const start = Math.max(0, stats.size - bytes);
    const buffer = Buffer.alloc(stats.size - start);
    let length = 0;
    while (length < buffer.length) {
      const read = readSync(fd, buffer, length, buffer.length - length, start + length);
      if (read === 0) break;
      length += read;
    }
    return { buffer: buffer.subarray(0, length), fromStart: start === 0 };
  } finally {
    closeSync(fd);
  }
}
