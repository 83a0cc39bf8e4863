// A traffic source that cannot be used (missing, empty or unreadable file): the operator's to fix, not a bug.

export class TrafficError extends Error {
  constructor(
    message: string,
    /** The file at fault, when there is one. */
    readonly file?: string,
  ) {
    super(message);
    this.name = 'TrafficError';
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'no such file';
    if (code === 'EACCES') return 'permission denied';
    if (code === 'EISDIR') return 'it is a folder, not a file';
    return error.message;
  }
  return String(error);
}
