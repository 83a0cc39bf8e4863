// The exit-code contract (README, DESIGN.md): one table, read by the engine, the CLI, its help and the reports.

const CODES = {
  promoted: { code: 0, meaning: 'promoted', help: 'promoted' },
  internal: { code: 1, meaning: 'internal error', help: 'internal error' },
  usage: { code: 2, meaning: 'usage error or invalid plan', help: 'usage/invalid plan' },
  preflight: { code: 3, meaning: 'preflight failed', help: 'preflight failed' },
  aborted: { code: 4, meaning: 'aborted by an operator', help: 'aborted by an operator' },
  orphaned: {
    code: 5,
    meaning: "the rollout's process died without finishing; run bluegreen rollback",
    help: "the rollout's process died (run bluegreen rollback)",
  },
  rolledBack: { code: 10, meaning: 'rolled back automatically', help: 'rolled back' },
  sighup: { code: 129, meaning: 'interrupted by SIGHUP (or its output closing), rolled back to blue', help: 'interrupted (SIGHUP, or output closed)' },
  sigint: { code: 130, meaning: 'interrupted by SIGINT, rolled back to blue', help: 'interrupted (SIGINT)' },
  sigterm: { code: 143, meaning: 'interrupted by SIGTERM, rolled back to blue', help: 'interrupted (SIGTERM)' },
} as const;

type ExitName = keyof typeof CODES;

/** Frozen: exported to library users, whose JavaScript has no readonly to stop a change. */
export const EXIT = Object.freeze(Object.fromEntries(Object.entries(CODES).map(([name, entry]) => [name, entry.code]))) as {
  readonly [K in ExitName]: (typeof CODES)[K]['code'];
};

/** "rolled back automatically (exit 10)"; an unknown code reads "exit N". */
export function describeExit(code: number): string {
  const entry = Object.values(CODES).find((candidate) => candidate.code === code);
  return entry ? `${entry.meaning} (exit ${code})` : `exit ${code}`;
}

/** The one-line list for `--help`: "0 promoted, 1 internal error, ...". */
export function exitCodesHelp(): string {
  return Object.values(CODES)
    .map((entry) => `${entry.code} ${entry.help}`)
    .join(', ');
}

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
