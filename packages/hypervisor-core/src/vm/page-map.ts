/**
 * A map keyed by page number (a gfn, or a page index in a slot), for the lookups done on every
 * guest access: the leaves of an SPTE table by input gfn (kvm-mmu-pml), a slot's written pages
 * (sparse-pages.ts). The lookup is an array walk, as the hardware's is: a directory with one
 * slot per 2 MiB of addresses (the span one last-level EPT table covers), indexed by n >>> 9,
 * holding a 512-entry leaf indexed by n & 511. A hashed Map cost about 20 ns a lookup here
 * (measured for the SPTE leaves), most of an access, and listing its keys in order needed a sort.
 *
 * A leaf is 512 tagged slots, 4 KiB on a 64-bit Node: as much as the guest page it may index.
 * So a region's slot first holds a short list of (offset, value) pairs, sorted by offset, and
 * gets its leaf when the list would reach PROMOTE_AT entries: a guest that writes one page
 * every few MiB of a 1 TiB slot costs a pair per page, not a leaf (a leaf each doubled the RSS
 * of such a guest). A list is never 512 long, so the length tells the two apart. Numbers from
 * 2^31 (8 TiB and up, as gfns) go to a Map: the directory stays a dense array.
 */
const LEAF_SHIFT = 9;
const LEAF_SIZE = 1 << LEAF_SHIFT;
const LEAF_MASK = LEAF_SIZE - 1;
/** Below this, a gfn is in the directory (gfn >>> 9 needs gfn < 2^32; the directory stays ≤ 2^22 slots). */
const DIRECT_LIMIT = 2 ** 31;
/** Entries a region's list holds at most before the region gets its leaf (a leaf then costs ≤ 512 B an entry). */
export const PROMOTE_AT = 8;

/** A region's slot: a leaf (LEAF_SIZE values by offset) or a list [offset, value, offset, value …]. */
type Slot = unknown[];

/** Index of offset `off` in a list (even indices: a value may equal an offset), or -1. */
function findOffset(list: Slot, off: number): number {
  for (let k = 0; k < list.length; k += 2) if (list[k] === off) return k;
  return -1;
}

export class PageMap<T> {
  private readonly dir: (Slot | undefined)[] = [];
  private readonly far = new Map<number, T>();
  private count = 0;
  private leaves = 0;

  get size(): number {
    return this.count;
  }

  /** 2 MiB regions held as a 512-entry leaf (the others as short lists): what the map costs. */
  get denseRegions(): number {
    return this.leaves;
  }

  get(gfn: number): T | undefined {
    if (gfn >= DIRECT_LIMIT) return this.far.get(gfn);
    const slot = this.dir[gfn >>> LEAF_SHIFT];
    if (slot === undefined) return undefined;
    const off = gfn & LEAF_MASK;
    if (slot.length === LEAF_SIZE) return slot[off] as T | undefined;
    const k = findOffset(slot, off);
    return k < 0 ? undefined : (slot[k + 1] as T);
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
    const off = gfn & LEAF_MASK;
    // grown slot by slot, never with a hole: V8 keeps a gap-free array in fast elements
    while (this.dir.length <= d) this.dir.push(undefined);
    const slot = this.dir[d];
    if (slot === undefined) {
      this.dir[d] = [off, value];
      this.count++;
      return this;
    }
    if (slot.length === LEAF_SIZE) {
      if (slot[off] === undefined) this.count++;
      slot[off] = value;
      return this;
    }
    let k = 0;
    while (k < slot.length && (slot[k] as number) < off) k += 2;
    if (slot[k] === off) {
      slot[k + 1] = value;
      return this;
    }
    this.count++;
    if (slot.length / 2 + 1 < PROMOTE_AT) slot.splice(k, 0, off, value);
    else {
      const leaf: unknown[] = new Array<unknown>(LEAF_SIZE).fill(undefined);
      for (let j = 0; j < slot.length; j += 2) leaf[slot[j] as number] = slot[j + 1];
      leaf[off] = value;
      this.dir[d] = leaf;
      this.leaves++;
    }
    return this;
  }

  delete(gfn: number): boolean {
    if (gfn >= DIRECT_LIMIT) {
      const had = this.far.delete(gfn);
      if (had) this.count--;
      return had;
    }
    const d = gfn >>> LEAF_SHIFT;
    const slot = this.dir[d];
    if (slot === undefined) return false;
    const off = gfn & LEAF_MASK;
    if (slot.length === LEAF_SIZE) {
      // a leaf stays a leaf: a region that once filled is likely to again
      if (slot[off] === undefined) return false;
      slot[off] = undefined;
    } else {
      const at = findOffset(slot, off);
      if (at < 0) return false;
      if (slot.length === 2) this.dir[d] = undefined;
      else slot.splice(at, 2);
    }
    this.count--;
    return true;
  }

  /** Every entry dropped (the leaves too: a cleared map holds no memory but its directory). */
  clear(): void {
    this.dir.length = 0;
    this.far.clear();
    this.count = 0;
    this.leaves = 0;
  }

  /** [gfn, value] pairs, gfns ascending. */
  *entries(): IterableIterator<[number, T]> {
    for (const g of this.keyArray()) yield [g, this.get(g)!];
  }

  *keys(): IterableIterator<number> {
    yield* this.keyArray();
  }

  /** The keys, ascending, as an array (one pass over the directory, no generator per key). */
  keyArray(): number[] {
    const out: number[] = [];
    for (let d = 0; d < this.dir.length; d++) {
      const slot = this.dir[d];
      if (slot === undefined) continue;
      const base = d * LEAF_SIZE;
      if (slot.length === LEAF_SIZE) {
        for (let i = 0; i < LEAF_SIZE; i++) if (slot[i] !== undefined) out.push(base + i);
      } else for (let k = 0; k < slot.length; k += 2) out.push(base + (slot[k] as number));
    }
    if (this.far.size > 0) out.push(...[...this.far.keys()].sort((a, b) => a - b));
    return out;
  }

  *values(): IterableIterator<T> {
    for (const g of this.keyArray()) yield this.get(g)!;
  }
}
