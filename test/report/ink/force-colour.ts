// Chalk, Ink's colour library, fixes its level once, at import, from the worker's stdout: not a terminal here, so no
// colour. A file that checks the colours the dashboard shows (or drops, under NO_COLOR) turns them on for its own
// tests, and puts chalk back as it was for the file after it in the shared worker.
import chalk, { type ColorSupportLevel } from 'chalk';
import { afterAll, beforeAll } from 'vitest';

/** Call at the top of a test file: chalk at level 1 (basic colours, as FORCE_COLOR=1 gives) for that file's tests. */
export function forceColour(): void {
  let before: ColorSupportLevel = chalk.level;
  beforeAll(() => {
    before = chalk.level;
    chalk.level = 1;
  });
  afterAll(() => {
    chalk.level = before;
  });
}
