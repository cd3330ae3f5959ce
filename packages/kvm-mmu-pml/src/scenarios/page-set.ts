/**
 * A set of page numbers for the guests' oracle, which notes a page on every store (hundreds of
 * thousands a run) and empties at every sync: a byte per page says whether it is in, and a list
 * keeps the order pages came in, so add() is an array store, iteration walks only the pages
 * noted and clear() resets only those (noting a page in a hashed Set was a hot spot of its own
 * in a nested-migration CPU profile). Numbers must be non-negative integers (page frame
 * numbers); the table grows to the highest one seen.
 */

/** A page's state in the table: not in the set and not listed, in the set, or deleted but still listed. */
const ABSENT = 0;
const PRESENT = 1;
const LISTED = 2;

export class PageSet implements Iterable<number> {
  private state = new Uint8Array(1024);
  /** Every page added since the last clear(), once each, in the order first added. */
  private readonly listed: number[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(page: number): boolean {
    return page < this.state.length && this.state[page] === PRESENT;
  }

  add(page: number): this {
    let s = this.state[page];
    if (s === undefined) {
      // beyond the table, or not a page number at all (grow() refuses it)
      this.grow(page);
      s = ABSENT;
    }
    if (s === PRESENT) return this;
    if (s === ABSENT) this.listed.push(page);
    this.state[page] = PRESENT;
    this.count++;
    return this;
  }

  delete(page: number): boolean {
    if (!this.has(page)) return false;
    this.state[page] = LISTED;
    this.count--;
    return true;
  }

  clear(): void {
    for (const p of this.listed) this.state[p] = ABSENT;
    this.listed.length = 0;
    this.count = 0;
  }

  /** The pages in the set, in the order they were first added. */
  *[Symbol.iterator](): Iterator<number> {
    for (const p of this.listed) if (this.state[p] === PRESENT) yield p;
  }

  private grow(page: number): void {
    if (!Number.isSafeInteger(page) || page < 0 || page >= 2 ** 32) throw new RangeError(`PageSet: ${String(page)} is not a page number below 2^32 (16 TiB of 4 KiB pages)`);
    let n = this.state.length;
    while (n <= page) n *= 2;
    const next = new Uint8Array(n);
    next.set(this.state);
    this.state = next;
  }
}
