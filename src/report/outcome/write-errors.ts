// Failures to write a report, as sentences an operator can act on (the CLI maps them to exit 2).
import path from 'node:path';
import { errorCode, errorText } from '../../core/errors.js';

export class ReportWriteError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'ReportWriteError';
  }
}

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
    default:
      return errorText(error);
  }
}
