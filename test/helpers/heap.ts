// The heap as the tests of what a path keeps read it: V8's gc() on demand, and the old generation's size.
import v8 from 'node:v8';
import vm from 'node:vm';

/** V8's gc(), exposed at run time (the test workers do not start with --expose-gc): a full GC, or a scavenge with { type: 'minor' }. */
export function exposedGc(): (options?: { type: 'minor' }) => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as (options?: { type: 'minor' }) => void;
}

/** Bytes in use in V8's old space: what a churned Set's old tables promote shows there. */
export function oldSpaceUsed(): number {
  return v8.getHeapSpaceStatistics().find((space) => space.space_name === 'old_space')?.space_used_size ?? 0;
}
