/**
 * A memslot's dirty bitmap exactly as KVM lays it out: one bit per 4 KiB page,
 * ALIGN(npages, 64) / 8 bytes (whole unsigned longs), little-endian bit order (set_bit_le:
 * page i is byte i >> 3, bit i & 7). Facts: virt/kvm/kvm_main.c (kvm_dirty_bitmap_bytes).
 *
 * Word operations use 32-bit lanes; on a little-endian host two lanes are one kernel long.
 * The bitmap also keeps the lowest and highest lane a bit was set in since the last clear, so
 * a harvest of a sparse 64 GiB slot copies and zeros the few lanes that can hold bits instead
 * of 4 MiB of memory traffic (the bytes returned are the same: every other lane is zero).
 */
export class DirtyBitmap {
  readonly npages: number;
  readonly bytes: Uint8Array;
  private readonly words: Uint32Array;
  /** Count of set bits, kept exactly, so a clean bitmap is known without a scan. */
  private setBits = 0;
  /** Lanes [lo, hi] hold every set bit (empty when lo > hi): a superset, never shrunk by clearLane. */
  private lo: number;
  // Stryker disable next-line UnaryOperator: the lane range [lo, hi] only has to cover every set bit; a wider one returns the same bytes (it copies and zeroes more zero lanes)
  private hi = -1;

  constructor(npages: number, initiallySet = false) {
    this.npages = npages;
    const byteLen = DirtyBitmap.byteLength(npages);
    this.bytes = new Uint8Array(byteLen);
    this.words = new Uint32Array(this.bytes.buffer, 0, byteLen / 4);
    this.lo = this.words.length;
    if (initiallySet) this.setRange(0, npages);
  }

  /** ALIGN(npages, BITS_PER_LONG) / 8. */
  static byteLength(npages: number): number {
    return Math.ceil(npages / 64) * 8;
  }

  get dirtyCount(): number {
    return this.setBits;
  }

  test(page: number): boolean {
    return (this.words[page >>> 5]! & (1 << (page & 31))) !== 0;
  }

  /** Sets the bit; returns true if it was clear. */
  set(page: number): boolean {
    const w = page >>> 5;
    const bit = 1 << (page & 31);
    const old = this.words[w]!;
    if ((old & bit) !== 0) return false;
    this.words[w] = old | bit;
    this.setBits++;
    // Stryker disable next-line EqualityOperator: at w === lo the assignment changes nothing
    if (w < this.lo) this.lo = w;
    // Stryker disable next-line EqualityOperator: at w === hi the assignment changes nothing
    if (w > this.hi) this.hi = w;
    return true;
  }

  /**
   * Sets pages [first, first + count), whole 32-bit lanes at a time (bitmap_set()): enabling
   * KVM_DIRTY_LOG_INITIALLY_SET on an 8 TiB slot is 2^26 lane stores, not 2^31 bit tests.
   */
  setRange(first: number, count: number): void {
    const end = Math.min(first + count, this.npages);
    let p = Math.max(0, first);
    // Stryker disable next-line EqualityOperator: at p === end every loop below is empty: returning later gives the same bitmap
    if (p >= end) return;
    const w = this.words;
    // A partial first lane, then whole lanes (fill), then a partial last lane.
    // Stryker disable next-line ConditionalExpression: without the lane-boundary stop the loop sets the rest bit by bit: the same bits, only slower
    for (; p < end && (p & 31) !== 0; p++) this.set(p);
    const fullLanesEnd = end >>> 5;
    const firstFull = p >>> 5;
    // Stryker disable next-line ConditionalExpression,BlockStatement: without the whole-lane fill the bit loop below sets the same bits one by one (only slower)
    if (firstFull < fullLanesEnd) {
      let before = 0;
      // Stryker disable next-line ConditionalExpression: with no bit set the popcount is 0 anyway: skipping it is only faster
      if (this.setBits !== 0) for (let l = firstFull; l < fullLanesEnd; l++) before += popcount32(w[l]!);
      w.fill(0xffff_ffff, firstFull, fullLanesEnd);
      this.setBits += (fullLanesEnd - firstFull) * 32 - before;
      // Stryker disable next-line EqualityOperator: at firstFull === lo the assignment changes nothing
      if (firstFull < this.lo) this.lo = firstFull;
      // Stryker disable next-line EqualityOperator,ArithmeticOperator: the lane range [lo, hi] only has to cover every set bit; a wider one returns the same bytes (it copies and zeroes more zero lanes)
      if (fullLanesEnd - 1 > this.hi) this.hi = fullLanesEnd - 1;
      p = fullLanesEnd * 32;
    }
    for (; p < end; p++) this.set(p);
  }

  /**
   * GET_DIRTY_LOG without manual protect: returns a snapshot and clears the live bitmap
   * (the xchg(word, 0) loop), so the caller can re-protect exactly the harvested pages.
   * With `into`, the snapshot is written there (the caller's buffer, like the ioctl's).
   */
  harvest(into?: Uint8Array): Uint8Array {
    // Stryker disable next-line ConditionalExpression: an empty bitmap copied is all zeros too: the shortcut only avoids the copy
    if (this.setBits === 0) return this.zeros(into);
    const snap = this.copy(into);
    this.words.fill(0, this.lo, this.hi + 1);
    this.setBits = 0;
    this.lo = this.words.length;
    // Stryker disable next-line UnaryOperator: the lane range [lo, hi] only has to cover every set bit; a wider one returns the same bytes (it copies and zeroes more zero lanes)
    this.hi = -1;
    return snap;
  }

  /** A copy of the live bitmap (GET_DIRTY_LOG with manual protect: no clear). */
  snapshot(into?: Uint8Array): Uint8Array {
    // Stryker disable next-line ConditionalExpression: an empty bitmap copied is all zeros too: the shortcut only avoids the copy
    return this.setBits === 0 ? this.zeros(into) : this.copy(into);
  }

  /**
   * Copies the live bitmap into `into` (its first byteLength bytes) or a new array: lanes
   * [lo, hi] copied, the rest zero (a new array is zero already; `into` is zeroed around them).
   */
  private copy(into?: Uint8Array): Uint8Array {
    // Stryker disable next-line ArithmeticOperator: a smaller start copies more zero lanes: the same bytes
    const from = this.lo * 4;
    const to = (this.hi + 1) * 4;
    const len = this.bytes.length;
    let out: Uint8Array;
    if (into === undefined) {
      out = new Uint8Array(len);
    } else {
      out = into;
      out.fill(0, 0, from);
      out.fill(0, to, len);
    }
    out.set(this.bytes.subarray(from, to), from);
    return out;
  }

  private zeros(into?: Uint8Array): Uint8Array {
    if (into === undefined) return new Uint8Array(this.bytes.length);
    into.fill(0, 0, this.bytes.length);
    return into;
  }

  /**
   * CLEAR_DIRTY_LOG on 32-bit lane `lane` (page lane*32 …): clears the bits of `mask` that were
   * set (fetch_andnot) and returns the mask of bits that really were set.
   */
  clearLane(lane: number, mask: number): number {
    const old = this.words[lane]!;
    const cleared = old & mask;
    // Stryker disable next-line ConditionalExpression: with nothing cleared the block stores the same lane and subtracts 0
    if (cleared !== 0) {
      this.words[lane] = old & ~mask;
      this.setBits -= popcount32(cleared);
      // Stryker disable next-line ConditionalExpression,BlockStatement: the lane range [lo, hi] only has to cover every set bit; a wider one returns the same bytes (it copies and zeroes more zero lanes)
      if (this.setBits === 0) {
        this.lo = this.words.length;
        // Stryker disable next-line UnaryOperator: the lane range [lo, hi] only has to cover every set bit; a wider one returns the same bytes (it copies and zeroes more zero lanes)
        this.hi = -1;
      }
    }
    return cleared >>> 0;
  }

  lane(lane: number): number {
    return this.words[lane]!;
  }

  get laneCount(): number {
    return this.words.length;
  }
}

export function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** The pages whose bits are set in a KVM-layout bitmap (for tests and reports). */
export function bitmapPages(bitmap: Uint8Array): number[] {
  const out: number[] = [];
  // Stryker disable next-line EqualityOperator: bitmap[length] is undefined, which sets no bit below
  for (let i = 0; i < bitmap.length; i++) {
    const b = bitmap[i]!;
    // Stryker disable next-line ConditionalExpression: a zero byte pushes no page in the loop below: the shortcut only skips it
    if (b === 0) continue;
    // Stryker disable next-line EqualityOperator: bit 8 of a byte is always clear
    for (let bit = 0; bit < 8; bit++) if (b & (1 << bit)) out.push(i * 8 + bit);
  }
  return out;
}
