/**
 * The destination's memory of a pre-copy: gfn → the page as last sent. A page whose 32-bit words
 * are nearly all zero (the usual page of these workloads: a few 8-byte stores into a fresh
 * page) is kept as its non-zero words, any other as a 4 KiB frame (page-copies.ts). Read as a
 * map it gives whole pages, byte for byte what was sent; keeping most pages small spares the
 * fresh memory a full copy of every sent page would touch (page faults are most of a bulk
 * stage's cost, and most of its RSS).
 */
import { bytesEqual, GuestPage, HOST_LITTLE_ENDIAN, isZeroBytes, PAGE_BYTES } from '@kvmlab/hypervisor-core';
// (The pairs a compact source page gives, GuestPage.nonZeroHalves, are in this file's Uint32Array terms only on a little-endian host.)
import { PageCopies } from './page-copies.js';

const WORDS = PAGE_BYTES >>> 2;
/** Pages with at most this many non-zero 32-bit words are kept as (index, value) pairs. */
const MAX_SPARSE_WORDS = 32;

/**
 * A mostly-zero page: (word index, value) pairs, indices ascending, in a plain array of int32s
 * (each word as `x | 0`). A plain array of small integers lives on the JS heap; a Uint32Array of
 * this size has its own ArrayBuffer and an off-heap backing store, which cost several times
 * more to make and to collect, and a pre-copy makes one for every page it sends.
 */
type SparsePage = number[];

/** The first `n` entries of `pairs` as a sparse frame. */
function sparseOf(pairs: Uint32Array, n: number): SparsePage {
  const f = new Array<number>(n);
  for (let k = 0; k < n; k++) f[k] = pairs[k]! | 0;
  return f;
}
type Frame = Uint8Array | SparsePage;

const words = (p: Uint8Array): Uint32Array => new Uint32Array(p.buffer, p.byteOffset, WORDS);
const scratch = new Uint32Array(2 * MAX_SPARSE_WORDS);
const otherScratch = new Uint32Array(2 * MAX_SPARSE_WORDS);
/** A source page laid out whole, when it is compact and cannot be read as pairs. */
const SOURCE_PAGE = new Uint8Array(PAGE_BYTES);

/** A zero page that equals() lays a sparse frame out in (and zeroes again before it returns). */
const SCRATCH_PAGE = new Uint8Array(PAGE_BYTES);

export class DestPages implements ReadonlyMap<number, Uint8Array> {
  private readonly frames = new Map<number, Frame>();
  private readonly copies = new PageCopies();

  /**
   * Stores `src` (a whole page, or a source memory's page) as the page at `gfn`; an all-zero
   * page is dropped (the destination starts zeroed) and false returned.
   */
  receive(gfn: number, src: Uint8Array | GuestPage): boolean {
    if (src instanceof GuestPage) {
      const n = HOST_LITTLE_ENDIAN ? src.nonZeroHalves(scratch) : -1;
      if (n < 0) return this.receive(gfn, src.view(SOURCE_PAGE));
      if (n === 0) {
        this.delete(gfn);
        return false;
      }
      const held = this.frames.get(gfn);
      if (held instanceof Uint8Array) this.copies.release(held);
      this.frames.set(gfn, sparseOf(scratch, n));
      return true;
    }
    const w = words(src);
    let n = 0;
    for (let i = 0; i < WORDS; i++) {
      const x = w[i]!;
      if (x !== 0) {
        if (n === MAX_SPARSE_WORDS) {
          this.keepFull(gfn, src);
          return true;
        }
        scratch[2 * n] = i;
        scratch[2 * n + 1] = x;
        n++;
      }
    }
    if (n === 0) {
      this.delete(gfn);
      return false;
    }
    const held = this.frames.get(gfn);
    if (held instanceof Uint8Array) this.copies.release(held);
    this.frames.set(gfn, sparseOf(scratch, 2 * n));
    return true;
  }

  private keepFull(gfn: number, src: Uint8Array): void {
    const held = this.frames.get(gfn);
    if (held instanceof Uint8Array) held.set(src);
    else this.frames.set(gfn, this.copies.copyOf(src));
  }

  /** Drops the page at `gfn` (it reads as zeros again). */
  delete(gfn: number): boolean {
    const held = this.frames.get(gfn);
    if (held === undefined) return false;
    if (held instanceof Uint8Array) this.copies.release(held);
    return this.frames.delete(gfn);
  }

  /** The destination is done with: every page dropped, the frames' blocks back to the pool (no page read before may be used after). */
  clear(): void {
    this.frames.clear();
    this.copies.releaseAll();
  }

  /** Whether the page at `gfn` holds exactly `src`'s bytes (`undefined`: zeros). */
  equals(gfn: number, src: Uint8Array | GuestPage | undefined): boolean {
    const f = this.frames.get(gfn);
    if (src instanceof GuestPage) {
      const n = HOST_LITTLE_ENDIAN && !(f instanceof Uint8Array) ? src.nonZeroHalves(otherScratch) : -1;
      if (n < 0) return this.equals(gfn, src.view(SOURCE_PAGE));
      // both sides as ascending non-zero pairs
      if (f === undefined) return n === 0;
      if (f.length !== n) return false;
      for (let k = 0; k < n; k++) if (f[k] !== (otherScratch[k]! | 0)) return false;
      return true;
    }
    if (f === undefined) return src === undefined || isZeroBytes(src);
    if (f instanceof Uint8Array) return src === undefined ? isZeroBytes(f) : bytesEqual(f, src);
    if (src === undefined) return false; // a sparse frame has a non-zero word
    // The sparse frame laid out in a zeroed scratch page, compared whole (a native memcmp under
    // Node), then the scratch zeroed again.
    const w = words(SCRATCH_PAGE);
    for (let k = 0; k < f.length; k += 2) w[f[k]!] = f[k + 1]!;
    const same = bytesEqual(SCRATCH_PAGE, src);
    for (let k = 0; k < f.length; k += 2) w[f[k]!] = 0;
    return same;
  }

  private materialise(f: Frame): Uint8Array {
    if (f instanceof Uint8Array) return f;
    const p = new Uint8Array(PAGE_BYTES);
    const w = words(p);
    for (let k = 0; k < f.length; k += 2) w[f[k]!] = f[k + 1]!;
    return p;
  }

  get size(): number {
    return this.frames.size;
  }
  has(gfn: number): boolean {
    return this.frames.has(gfn);
  }
  /** The page as sent (a fresh array for a page kept sparse). */
  get(gfn: number): Uint8Array | undefined {
    const f = this.frames.get(gfn);
    return f === undefined ? undefined : this.materialise(f);
  }
  keys(): MapIterator<number> {
    return this.frames.keys();
  }
  *values(): MapIterator<Uint8Array> {
    for (const f of this.frames.values()) yield this.materialise(f);
  }
  *entries(): MapIterator<[number, Uint8Array]> {
    for (const [g, f] of this.frames) yield [g, this.materialise(f)];
  }
  [Symbol.iterator](): MapIterator<[number, Uint8Array]> {
    return this.entries();
  }
  forEach(fn: (value: Uint8Array, key: number, map: ReadonlyMap<number, Uint8Array>) => void, thisArg?: unknown): void {
    for (const [g, p] of this.entries()) fn.call(thisArg, p, g, this);
  }
}
