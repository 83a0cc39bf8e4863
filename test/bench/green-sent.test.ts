// bench/verdicts.js's green totals at a rollback made by a streak found at the look after it: the green requests
// sent between the streak's answer and that look are not the rollback's (the engine judges at once on each green
// failure). Before, the totals were counted to the look: up to a second of green traffic too many.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

interface Running {
  green: boolean;
  failed: boolean;
  sentAt: number;
}
const MODULE = pathToFileURL(path.resolve(import.meta.dirname, '../../bench/lib/green-sent.js')).href;
const { greenSentBy } = (await import(MODULE)) as {
  greenSentBy: (total: { requests: number; failures: number }, pending: readonly Running[], at: number) => { greenRequests: number; greenFailures: number };
};

describe('greenSentBy', () => {
  it('leaves out the green requests sent after the rollback, failed or not', () => {
    const pending = [
      { green: true, failed: true, sentAt: 900 }, // sent before the streak's answer at 1000, still running: counted
      { green: true, failed: true, sentAt: 1200 },
      { green: true, failed: false, sentAt: 1500 },
      { green: false, failed: true, sentAt: 1700 }, // blue's: never in green's totals
    ];
    expect(greenSentBy({ requests: 9, failures: 7 }, pending, 1000)).toEqual({ greenRequests: 7, greenFailures: 6 });
  });

  it('is the whole count when nothing was sent after the rollback', () => {
    expect(greenSentBy({ requests: 5, failures: 5 }, [{ green: true, failed: true, sentAt: 1000 }], 1000)).toEqual({ greenRequests: 5, greenFailures: 5 });
  });
});
