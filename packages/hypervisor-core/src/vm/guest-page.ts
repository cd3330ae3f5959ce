/**
 * One 4 KiB page of guest memory. A page the guest has written only a few 8-byte words of (the
 * usual page of the model's workloads: a store or two into a fresh page) is kept as those words;
 * once it holds more than MAX_WORDS of them, or someone needs its bytes as one array, it becomes
 * a 4 KiB frame and stays one. Both forms read back byte for byte the same: the form is a cost,
 * never a behaviour. A fresh frame costs its page faults on first touch — on these machines the
 * largest single cost of a scenario that writes a few hundred MB of guest pages — and its RSS;
 * a word list costs a few hundred bytes.
 */
import { isZeroBytes } from '../bytes.js';
import { show } from '../validate.js';

export const PAGE_BYTES = 4096;

/** Written 8-byte words a compact page may hold before it becomes a frame. */
export const MAX_WORDS = 32;
/** Entries are [word index, low 32 bits, high 32 bits] (little-endian bytes, as x86 stores them). */
const STRIDE = 3;

/** Where a page's frame comes from when it stops being compact (its memory's block carver). */
export interface FrameSource {
  newFrame(): Uint8Array;
}

/** readU64's bytes of an unaligned entry in a compact page (read into, then composed: never kept). */
const U64_SCRATCH = new Uint8Array(8);
/** readU64's halves (read into, then composed: never kept). */
const HALVES_SCRATCH = new Uint32Array(2);

/** Byte `b` (0..7) of the word (lo, hi). */
const byteOf = (lo: number, hi: number, b: number): number => (b < 4 ? lo >>> (8 * b) : hi >>> (8 * (b - 4))) & 0xff;
const withByte = (x: number, b: number, v: number): number => ((x & ~(0xff << (8 * b))) | (v << (8 * b))) >>> 0;

export class GuestPage {
  /** The page's bytes, once it is not compact. */
  frame: Uint8Array | undefined = undefined;
  /**
   * While compact: `count` entries of STRIDE numbers, unordered; words not listed are zero. A
   * plain array, not a typed one: it lives on the JS heap (a small typed array past 64 bytes gets
   * its own off-heap buffer, which costs an allocation and GC bookkeeping per page).
   */
  private words: number[] | undefined = [];
  private count = 0;
  private readonly source: FrameSource;

  constructor(source: FrameSource) {
    this.source = source;
  }

  /** The page is still a word list (no frame). */
  get compact(): boolean {
    return this.frame === undefined;
  }

  /** Entry position of word `k`, or -1. */
  private find(k: number): number {
    const w = this.words!;
    for (let e = 0, at = 0; e < this.count; e++, at += STRIDE) if (w[at] === k) return at;
    return -1;
  }

  /** A new zero entry for word `k`; -1 if the list is full. */
  private insert(k: number): number {
    if (this.count === MAX_WORDS) return -1;
    const at = this.count * STRIDE;
    this.words!.push(k, 0, 0);
    this.count++;
    return at;
  }

  /** The page as a frame from now on (the words laid out in a zeroed one), and that frame. */
  bytes(): Uint8Array {
    if (this.frame !== undefined) return this.frame;
    const f = this.source.newFrame();
    this.layOut(f);
    this.frame = f;
    this.words = undefined;
    this.count = 0;
    return f;
  }

  /** Writes the listed words into `out` (which must be zero where they are not). */
  private layOut(out: Uint8Array): void {
    const w = this.words!;
    for (let e = 0, at = 0; e < this.count; e++, at += STRIDE) {
      const o = w[at]! * 8;
      const lo = w[at + 1]!;
      const hi = w[at + 2]!;
      out[o] = lo & 0xff; out[o + 1] = (lo >>> 8) & 0xff; out[o + 2] = (lo >>> 16) & 0xff; out[o + 3] = lo >>> 24;
      out[o + 4] = hi & 0xff; out[o + 5] = (hi >>> 8) & 0xff; out[o + 6] = (hi >>> 16) & 0xff; out[o + 7] = hi >>> 24;
    }
  }

  /** Copies `n` bytes of `src` from `srcOffset` to byte `inPage` of the page. */
  write(src: Uint8Array, srcOffset: number, inPage: number, n: number): void {
    if (n === 0) return;
    if (this.frame === undefined && !this.writeWords(src, srcOffset, inPage, n)) this.bytes();
    const f = this.frame;
    if (f !== undefined) f.set(srcOffset === 0 && n === src.length ? src : src.subarray(srcOffset, srcOffset + n), inPage);
  }

  /**
   * An aligned 8-byte store given as its halves (`inPage` a multiple of 8): write() of the
   * little-endian bytes of (hi, lo), without them. A processor's 64-bit store.
   */
  writeHalves(inPage: number, lo: number, hi: number): void {
    if (!Number.isInteger(inPage) || (inPage & 7) !== 0 || inPage < 0 || inPage > PAGE_BYTES - 8) throw new RangeError(`8-byte store at ${show(inPage)} is not an aligned offset in a page`);
    if (this.frame === undefined) {
      const k = inPage >>> 3;
      let at = this.find(k);
      if (at < 0) at = this.insert(k);
      if (at >= 0) {
        const w = this.words!;
        w[at + 1] = lo >>> 0;
        w[at + 2] = hi >>> 0;
        return;
      }
      this.bytes(); // the list is full: the page becomes a frame, as write() does
    }
    const f = this.frame!;
    const o = inPage;
    f[o] = lo; f[o + 1] = lo >>> 8; f[o + 2] = lo >>> 16; f[o + 3] = lo >>> 24; // Uint8Array stores keep the low 8 bits
    f[o + 4] = hi; f[o + 5] = hi >>> 8; f[o + 6] = hi >>> 16; f[o + 7] = hi >>> 24;
  }

  /** The write into the word list; false (nothing lost: the frame write redoes it) when the list is full. */
  private writeWords(src: Uint8Array, srcOffset: number, inPage: number, n: number): boolean {
    const end = inPage + n;
    for (let k = inPage >>> 3; k * 8 < end; k++) {
      let at = this.find(k);
      if (at < 0) at = this.insert(k);
      if (at < 0) return false;
      const w = this.words!;
      const from = Math.max(inPage, k * 8);
      const to = Math.min(end, k * 8 + 8);
      const s = srcOffset + (from - inPage);
      if (to - from === 8) {
        // a whole word: the store the workloads make
        w[at + 1] = (src[s]! | (src[s + 1]! << 8) | (src[s + 2]! << 16) | (src[s + 3]! << 24)) >>> 0;
        w[at + 2] = (src[s + 4]! | (src[s + 5]! << 8) | (src[s + 6]! << 16) | (src[s + 7]! << 24)) >>> 0;
      } else {
        let lo = w[at + 1]!;
        let hi = w[at + 2]!;
        for (let p = from; p < to; p++) {
          const b = p - k * 8;
          const v = src[s + (p - from)]!;
          if (b < 4) lo = withByte(lo, b, v);
          else hi = withByte(hi, b - 4, v);
        }
        w[at + 1] = lo;
        w[at + 2] = hi;
      }
    }
    return true;
  }

  /** Copies `n` bytes from byte `inPage` into `out` at `outOffset`. */
  read(inPage: number, out: Uint8Array, outOffset: number, n: number): void {
    const f = this.frame;
    if (f !== undefined) {
      out.set(f.subarray(inPage, inPage + n), outOffset);
      return;
    }
    out.fill(0, outOffset, outOffset + n);
    const w = this.words!;
    const end = inPage + n;
    for (let e = 0, at = 0; e < this.count; e++, at += STRIDE) {
      const o = w[at]! * 8;
      if (o + 8 <= inPage || o >= end) continue;
      const lo = w[at + 1]!;
      const hi = w[at + 2]!;
      for (let p = Math.max(o, inPage); p < Math.min(o + 8, end); p++) out[outOffset + (p - inPage)] = byteOf(lo, hi, p - o);
    }
  }

  /** The 8 bytes at `inPage` (inside the page) as a little-endian u64: a page-table entry. */
  readU64(inPage: number): bigint {
    const h = HALVES_SCRATCH;
    this.readHalves(inPage, h);
    return h[0] === 0 && h[1] === 0 ? 0n : (BigInt(h[1]!) << 32n) | BigInt(h[0]!);
  }

  /**
   * readU64 as two numbers: bits 31:0 into out[0], bits 63:32 into out[1]. A table walker that
   * tests flags and forms addresses in doubles reads entries this way and allocates nothing.
   */
  readHalves(inPage: number, out: Uint32Array): void {
    const f = this.frame;
    if (f !== undefined) {
      const o = inPage;
      out[0] = f[o]! | (f[o + 1]! << 8) | (f[o + 2]! << 16) | (f[o + 3]! << 24);
      out[1] = f[o + 4]! | (f[o + 5]! << 8) | (f[o + 6]! << 16) | (f[o + 7]! << 24);
    } else if ((inPage & 7) === 0) {
      const at = this.find(inPage >>> 3);
      out[0] = at < 0 ? 0 : this.words![at + 1]!;
      out[1] = at < 0 ? 0 : this.words![at + 2]!;
    } else {
      const b = U64_SCRATCH;
      this.read(inPage, b, 0, 8);
      out[0] = b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24);
      out[1] = b[4]! | (b[5]! << 8) | (b[6]! << 16) | (b[7]! << 24);
    }
  }

  /** memset() of `n` bytes at `inPage`. Zeros into a compact page clear listed bytes and list nothing new. */
  fill(inPage: number, n: number, value: number): void {
    if (this.frame === undefined && value === 0) {
      const w = this.words!;
      const end = inPage + n;
      for (let e = 0, at = 0; e < this.count; e++, at += STRIDE) {
        const o = w[at]! * 8;
        for (let p = Math.max(o, inPage); p < Math.min(o + 8, end); p++) {
          const b = p - o;
          if (b < 4) w[at + 1] = withByte(w[at + 1]!, b, 0);
          else w[at + 2] = withByte(w[at + 2]!, b - 4, 0);
        }
      }
      return;
    }
    if (this.frame === undefined && n <= 16) {
      this.write(new Uint8Array(n).fill(value), 0, inPage, n);
      return;
    }
    this.bytes().fill(value, inPage, inPage + n);
  }

  /** Every byte is zero. */
  isZero(): boolean {
    if (this.frame !== undefined) return isZeroBytes(this.frame);
    const w = this.words!;
    for (let e = 0, at = 0; e < this.count; e++, at += STRIDE) if (w[at + 1] !== 0 || w[at + 2] !== 0) return false;
    return true;
  }

  /** The page's bytes in `out` (a whole page): the frame itself if it has one, else the words laid out in `out`, zeroed first. */
  view(out: Uint8Array): Uint8Array {
    if (this.frame !== undefined) return this.frame;
    out.fill(0);
    this.layOut(out);
    return out;
  }

  /**
   * A compact page's non-zero 32-bit halves, as [u32 index, value] pairs in `out`, indices
   * ascending (u32 index 2k is the low half of 8-byte word k: the page's words as a
   * little-endian host's Uint32Array view sees them). Returns how many numbers it wrote; -1 if
   * the page is a frame or `out` cannot hold them.
   */
  nonZeroHalves(out: Uint32Array): number {
    if (this.frame !== undefined) return -1;
    const w = this.words!;
    let n = 0;
    for (let e = 0, at = 0; e < this.count; e++, at += STRIDE) {
      for (let h = 0; h < 2; h++) {
        const x = w[at + 1 + h]!;
        if (x === 0) continue;
        if (n + 2 > out.length) return -1;
        // insertion into the sorted pairs: at most 2·MAX_WORDS of them
        const idx = 2 * w[at]! + h;
        let j = n;
        while (j > 0 && out[j - 2]! > idx) {
          out[j] = out[j - 2]!;
          out[j + 1] = out[j - 1]!;
          j -= 2;
        }
        out[j] = idx;
        out[j + 1] = x;
        n += 2;
      }
    }
    return n;
  }

  /** The page's bytes: the frame itself when it has one, else a fresh array. */
  toBytes(): Uint8Array {
    return this.frame ?? this.view(new Uint8Array(PAGE_BYTES));
  }
}
