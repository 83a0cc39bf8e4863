// Which table columns a terminal too narrow for all of them drops, least important first: errors (the error rate
// says it), then cost, then p95. The one copy of that rule, for the status table and the dashboard's stage table.

export type DroppableColumn = 'errors' | 'cost' | 'p95';

/** Least important first. */
const DROP_ORDER: readonly DroppableColumn[] = ['errors', 'cost', 'p95'];

/**
 * The columns to leave out so the table fits `width`: none when it fits or no width is known; else the fewest from
 * the front of DROP_ORDER. `widthWithout(dropped)` is the table's width without those columns.
 */
export function droppedColumns(width: number | undefined, widthWithout: (dropped: ReadonlySet<DroppableColumn>) => number): Set<DroppableColumn> {
  const dropped = new Set<DroppableColumn>();
  if (width === undefined) return dropped;
  for (const column of DROP_ORDER) {
    if (widthWithout(dropped) <= width) break;
    dropped.add(column);
  }
  return dropped;
}
