// What a caught value says, for messages: anything can be thrown, not only Errors.
import path from 'node:path';

/** The error's message, or the thrown value as text. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A system error's code ("ENOENT", "EACCES"…), if it has one. */
export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

/** ELOOP, said for any file: a symbolic link in the path leads back to itself (`ln -s a b; ln -s b a`). */
export const SYMLINK_LOOP = 'its path goes round a loop of symbolic links';

/** Why writing `file` failed, in words: "the folder /x does not exist" rather than "ENOENT". */
export function describeFsError(error: unknown, file: string): string {
  const dir = path.dirname(file);
  switch (errorCode(error)) {
    case 'ENOENT':
      return `the folder ${dir} does not exist`;
    case 'ENOTDIR':
      return `part of the path ${dir} is a file, not a folder`;
    case 'EISDIR':
      return `${file} is a folder`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied`;
    case 'EROFS':
      return `the file system is read-only`;
    case 'ENOSPC':
      return `the disk is full`;
    case 'ELOOP':
      return SYMLINK_LOOP;
    default:
      return errorText(error);
  }
}
