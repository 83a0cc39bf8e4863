// Finds the API key: the named environment variable, else the same name in ./.env. Never logged.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { UsageError } from '../core/exit.js';

/** A .env holds a few NAME=value lines; anything larger is not one (a log, a dump) and is refused, not read whole. */
export const MAX_DOT_ENV_BYTES = 1024 * 1024;
const READ_CHUNK_BYTES = 64 * 1024;

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function fileKind(stats: Stats): string {
  if (stats.isFIFO()) return 'a named pipe';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  if (stats.isDirectory()) return 'a folder';
  return 'not a regular file';
}

/**
 * ./.env's text, or undefined when there is none (or it cannot be opened). A named pipe or a device (a link to
 * /dev/zero) would block or never end, so only a regular file of at most MAX_DOT_ENV_BYTES is read.
 */
function readDotEnvText(file: string): string | undefined {
  let fd: number;
  try {
    // O_NONBLOCK: opening a named pipe for reading would otherwise wait for a writer, forever. No effect on a file.
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch {
    // No (readable) .env is the common case, not an error: the caller reports the key as not set.
    return undefined;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new UsageError(`${file} is ${fileKind(stats)}, not a file of NAME=value lines; remove it or set the key in the environment`);
    // Read until the end, not the size fstat gives: a file can grow, and /proc files say 0. Stops one chunk past the cap.
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.alloc(READ_CHUNK_BYTES);
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      chunks.push(chunk.subarray(0, read));
      length += read;
      if (length > MAX_DOT_ENV_BYTES) {
        throw new UsageError(`${file} is larger than 1 MiB, too large for a file of NAME=value lines; remove it or set the key in the environment`);
      }
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function readDotEnv(cwd: string): Record<string, string | undefined> {
  const text = readDotEnvText(path.join(cwd, '.env'));
  return text === undefined ? {} : parseEnv(text);
}

/**
 * Why readApiKey found no key, said the same everywhere, with the two ways to give it: "X is not set (...)", or
 * "X is set but empty (...)" when the environment or ./.env has the name with nothing in it (a CI secret that did
 * not resolve, say).
 */
export function missingKeyText(envName: string, env: NodeJS.ProcessEnv, cwd: string): string {
  const named = env[envName] !== undefined || readDotEnv(cwd)[envName] !== undefined;
  return `${envName} is ${named ? 'set but empty' : 'not set'} (looked in the environment and ./.env: export ${envName}=... or put ${envName}=... in ./.env)`;
}

/** The key, trimmed (a stray newline would make an invalid header); undefined when set nowhere or empty. */
export function readApiKey(envName: string, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  return nonEmpty(env[envName]) ?? nonEmpty(readDotEnv(cwd)[envName]);
}
