// Where a slow run's time went (bench/lib/stalls.js): one process's GC pauses and loop holds cut to a run's window,
// and the log's words for them, on made-up records. No timing: the records are made up.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';

type GcPause = [number, number, string];
type LoopHold = [number, number];
interface Figures {
  gcPauses: number;
  gcMs: number;
  longGcMs: string[];
  longestHoldMs: number;
  longestHoldAtS: number | null;
}
interface Stalls {
  stallFigures: (record: { gc: GcPause[]; holds: LoopHold[] } | null, from: number, to: number) => Figures | null;
  stallText: (f: Figures | null) => string;
}

// Plain JavaScript without declarations (bench/ is type-checked on its own, against dist/).
const STALLS = pathToFileURL(path.resolve(import.meta.dirname, '../../bench/lib/stalls.js')).href;
const { stallFigures, stallText } = (await import(STALLS)) as Stalls;

/** A run from 10 s to 12 s on the epoch clock. */
const FROM = 10_000;
const TO = 12_000;

it('counts the GC pauses that began in the run, and names those over 50 ms', () => {
  const gc: GcPause[] = [
    [9_990, 30, 'scavenge'], // before the run (the gap after the last one)
    [10_100, 1.25, 'scavenge'],
    [10_500, 62.5, 'mark-compact'],
    [11_999, 3, 'scavenge'],
    [12_000, 80, 'mark-compact'], // after it
  ];
  const f = stallFigures({ gc, holds: [] }, FROM, TO);
  expect(f).toEqual({ gcPauses: 3, gcMs: 66.8, longGcMs: ['62.5 mark-compact'], longestHoldMs: 0, longestHoldAtS: null });
  expect(stallText(f)).toBe('GC 3 pauses, 66.8 ms, over 50 ms: 62.5 mark-compact; no loop hold over 20 ms');
});

it('takes the longest loop hold that overlapped the run, with its start after the run began', () => {
  const holds: LoopHold[] = [
    [9_000, 1_200], // began before the run, held into it
    [11_000, 1_300],
    [12_500, 4_000], // after it
  ];
  const f = stallFigures({ gc: [], holds }, FROM, TO);
  expect(f).toMatchObject({ longestHoldMs: 1_300, longestHoldAtS: 1 });
  expect(stallText(f)).toBe('GC 0 pauses, 0 ms, none over 50 ms; loop held 1300 ms at 1 s');
  // One that ended as the run began is not the run's.
  expect(stallFigures({ gc: [], holds: [[9_000, 1_000]] }, FROM, TO)).toMatchObject({ longestHoldMs: 0, longestHoldAtS: null });
  expect(stallFigures({ gc: [], holds: [[9_000, 1_500]] }, FROM, TO)).toMatchObject({ longestHoldMs: 1_500, longestHoldAtS: -1 });
});

it('says so when a process wrote no record', () => {
  expect(stallFigures(null, FROM, TO)).toBeNull();
  expect(stallText(null)).toBe('no record');
});
