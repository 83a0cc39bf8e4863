// What bench/lib/open-load.js's run gives back, as far as the tests of the benchmarks' client and sustained rule read
// it (bench/ is plain JavaScript without declarations).
export interface LoadResult {
  offered: number;
  completed: number;
  errors: number;
  dropped: number;
  /** Requests sent over LATE_MS after their time, and the most any was. */
  late: number;
  maxLateMs: number;
  achievedRate: number;
  /** From when each request left, and from when it was due (the sustained rule's). */
  latencyMs: { p99: number | null };
  fromScheduleMs: { p99: number | null };
}
