/**
 * Items that come and go all the time and stay a long while in all (the requests in flight), in an array of slots
 * rather than a Set or Map. A Set that entries come and go in rehashes into a new table every few dozen of them, and
 * V8 keeps in each old table its entries and a link to the next (for iterators). Once one table has reached the old
 * generation (after a stall or a full GC), each later one is kept through two scavenges by the dead one before it
 * and promoted with the entries it holds, and so on until the next mark-compact: whole requests promoted as garbage
 * (docs/benchmarks-history.md, retain20 and alloc21). A slot holds one item until remove(); freed slots are filled first.
 */
export class Slots<T> {
  private readonly items: (T | undefined)[] = [];
  /** The slots cleared, to fill first (numbers: they keep nothing alive). */
  private readonly free: number[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The item's slot, for remove(). */
  add(item: T): number {
    const slot = this.free.pop() ?? this.items.length;
    this.items[slot] = item;
    this.count++;
    return slot;
  }

  /** Once for each add(), with the slot it gave; returns the item removed. A second remove() of an empty slot is
   * ignored (undefined): freeing it twice would hand it to two later items. */
  remove(slot: number): T | undefined {
    const item = this.items[slot];
    if (item === undefined) return undefined;
    this.items[slot] = undefined;
    this.free.push(slot);
    this.count--;
    return item;
  }

  /** The items held now, in an array of their own: the caller may remove them while it goes through it. */
  values(): T[] {
    const held: T[] = [];
    for (const item of this.items) if (item !== undefined) held.push(item);
    return held;
  }
}
