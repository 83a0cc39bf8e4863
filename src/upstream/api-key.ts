// Finds the API key: the named environment variable, else the same name in ./.env. Never logged.
import path from 'node:path';
import { parseEnv } from 'node:util';
import { errorCode, errorText } from '../core/errors.js';
import { UsageError } from '../core/exit.js';
import { IrregularFileError, readRegularFile } from '../core/read-regular-file.js';

/** A .env holds a few NAME=value lines; anything larger is not one (a log, a dump) and is refused, not read whole. */
export const MAX_DOT_ENV_BYTES = 1024 * 1024;

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/**
 * ./.env's text, or undefined when there is none (or it cannot be opened). A named pipe or a device (a link to
 * /dev/zero) would block or never end, so only a regular file of at most MAX_DOT_ENV_BYTES is read. One that opens
 * but cannot be read (EIO) is refused: its key, if any, would otherwise be reported as not set.
 */
function readDotEnvText(file: string): string | undefined {
  try {
    return readRegularFile(file, MAX_DOT_ENV_BYTES).toString('utf8');
  } catch (error) {
    if (!(error instanceof IrregularFileError)) {
      // No (readable) .env is the common case, not an error: the caller reports the key as not set.
      if ((error as NodeJS.ErrnoException).syscall === 'open') return undefined;
      throw new UsageError(`${file} could not be read (${errorCode(error) ?? errorText(error)}); remove it or set the key in the environment`);
    }
    if (error.kind !== undefined) throw new UsageError(`${file} is ${error.kind}, not a file of NAME=value lines; remove it or set the key in the environment`);
    throw new UsageError(`${file} is larger than 1 MiB, too large for a file of NAME=value lines; remove it or set the key in the environment`);
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
