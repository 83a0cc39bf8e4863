// What each exit code means, in the words the README's table uses.
const MEANINGS: Record<number, string> = {
  0: 'promoted (exit 0)',
  1: 'internal error (exit 1)',
  2: 'usage error or invalid plan (exit 2)',
  3: 'preflight failed (exit 3)',
  4: 'aborted by an operator (exit 4)',
  5: 'the rollout\'s process died without finishing (exit 5); run bluegreen rollback',
  10: 'rolled back automatically (exit 10)',
  129: 'interrupted by SIGHUP, rolled back to blue (exit 129)',
  130: 'interrupted by SIGINT, rolled back to blue (exit 130)',
  143: 'interrupted by SIGTERM, rolled back to blue (exit 143)',
};

export function describeExit(code: number): string {
  return MEANINGS[code] ?? `exit ${code}`;
}
