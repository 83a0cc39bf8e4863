// Failures to write a report, as sentences an operator can act on (the CLI maps them to exit 2).

export class ReportWriteError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'ReportWriteError';
  }
}
