// Bytes a process allocates between two moments, exact rather than sampled: what each GC found used beyond what
// the previous one left (V8's GCProfiler gives the heap before and after every GC), plus the growth since the last.
import v8 from 'node:v8';

/** Starts counting; `stop()` returns the bytes allocated since, and how many GCs ran meanwhile. */
export function countAllocation() {
  const profiler = new v8.GCProfiler();
  profiler.start();
  let lastUsed = v8.getHeapStatistics().used_heap_size;
  return {
    stop() {
      const used = v8.getHeapStatistics().used_heap_size;
      const { statistics } = profiler.stop();
      let allocated = 0;
      for (const gc of statistics) {
        allocated += gc.beforeGC.heapStatistics.usedHeapSize - lastUsed;
        lastUsed = gc.afterGC.heapStatistics.usedHeapSize;
      }
      return { allocated: allocated + used - lastUsed, gcs: statistics.length };
    },
  };
}
