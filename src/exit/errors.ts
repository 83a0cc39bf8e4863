// Expected failures carry their exit code; anything else reaching main() is a bug (exit 1).

export const EXIT = {
  promoted: 0,
  internal: 1,
  usage: 2,
  preflight: 3,
  aborted: 4,
  /** `status`/`rollback`: the rollout's process died without finishing; traffic may not be on blue. */
  orphaned: 5,
  rolledBack: 10,
  sighup: 129,
  sigint: 130,
  sigterm: 143,
} as const;

/** A failure the user can fix, with the exit code the contract gives it. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
    this.name = 'UsageError';
  }
}
