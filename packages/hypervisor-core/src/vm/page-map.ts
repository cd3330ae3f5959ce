/**
 * A map keyed by page number (a gfn, or a page index in a slot), for the lookups done on every
 * guest access: the leaves of an SPTE table by input gfn (kvm-mmu-pml), a slot's written pages
 * (sparse-pages.ts). The lookup is an array walk, as the hardware's is: a directory of 512-entry
 * leaf arrays (one per 2 MiB of addresses, the span one last-level EPT table covers), indexed by
 * n >>> 9 and n & 511. A hashed Map cost about 20 ns a lookup here (measured for the SPTE
 * leaves), most of an access, and listing its keys in order needed a sort. Numbers from 2^31
 * (8 TiB and up, as gfns) go to a Map: the directory stays a dense array.
 */
const LEAF_SHIFT = 9;
const LEAF_SIZE = 1 << LEAF_SHIFT;
const LEAF_MASK = LEAF_SIZE - 1;
/** Below this, a gfn is in the directory (gfn >>> 9 needs gfn < 2^32; the directory stays ≤ 2^22 slots). */
const DIRECT_LIMIT = 2 ** 31;

export class PageMap<T> {
  private readonly dir: (T | undefined)[][] = [];
  private readonly far = new Map<number, T>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(gfn: number): T | undefined {
    if (gfn < DIRECT_LIMIT) {
      const leaf = this.dir[gfn >>> LEAF_SHIFT];
      return leaf === undefined ? undefined : leaf[gfn & LEAF_MASK];
    }
    return this.far.get(gfn);
  }

  has(gfn: number): boolean {
    return this.get(gfn) !== undefined;
  }

  set(gfn: number, value: T): this {
    if (gfn >= DIRECT_LIMIT) {
      if (!this.far.has(gfn)) this.count++;
      this.far.set(gfn, value);
      return this;
    }
    const d = gfn >>> LEAF_SHIFT;
    // grown slot by slot, never with a hole: V8 keeps a gap-free array in fast elements
    while (this.dir.length <= d) this.dir.push(undefined as unknown as (T | undefined)[]);
    let leaf = this.dir[d];
    if (leaf === undefined) this.dir[d] = leaf = new Array<T | undefined>(LEAF_SIZE).fill(undefined);
    if (leaf[gfn & LEAF_MASK] === undefined) this.count++;
    leaf[gfn & LEAF_MASK] = value;
    return this;
  }

  delete(gfn: number): boolean {
    if (gfn >= DIRECT_LIMIT) {
      const had = this.far.delete(gfn);
      if (had) this.count--;
      return had;
    }
    const leaf = this.dir[gfn >>> LEAF_SHIFT];
    if (leaf === undefined || leaf[gfn & LEAF_MASK] === undefined) return false;
    leaf[gfn & LEAF_MASK] = undefined;
    this.count--;
    return true;
  }

  /** Every entry dropped (the leaves too: a cleared map holds no memory but its directory). */
  clear(): void {
    this.dir.length = 0;
    this.far.clear();
    this.count = 0;
  }

  /** [gfn, value] pairs, gfns ascending. */
  *entries(): IterableIterator<[number, T]> {
    for (let d = 0; d < this.dir.length; d++) {
      const leaf = this.dir[d];
      if (leaf === undefined) continue;
      for (let i = 0; i < LEAF_SIZE; i++) {
        const v = leaf[i];
        if (v !== undefined) yield [d * LEAF_SIZE + i, v];
      }
    }
    yield* [...this.far].sort((a, b) => a[0] - b[0]);
  }

  *keys(): IterableIterator<number> {
    for (const [g] of this.entries()) yield g;
  }

  /** The keys, ascending, as an array (one pass over the directory, no generator per key). */
  keyArray(): number[] {
    const out: number[] = [];
    for (let d = 0; d < this.dir.length; d++) {
      const leaf = this.dir[d];
      if (leaf === undefined) continue;
      for (let i = 0; i < LEAF_SIZE; i++) if (leaf[i] !== undefined) out.push(d * LEAF_SIZE + i);
    }
    if (this.far.size > 0) out.push(...[...this.far.keys()].sort((a, b) => a - b));
    return out;
  }

  *values(): IterableIterator<T> {
    for (const [, v] of this.entries()) yield v;
  }
}
