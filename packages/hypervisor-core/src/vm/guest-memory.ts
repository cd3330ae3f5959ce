/**
 * Guest physical memory as the VMM (userspace) sees it through its mappings: reads and writes
 * of any length at any GPA, across page and slot boundaries. These are not guest accesses, so
 * they are not dirty-tracked (like a VMM's own stores into guest RAM). A byte outside every
 * slot fails the whole access with EFAULT and changes nothing.
 */
import { readLe, writeLe } from '../bigint.js';
import { KvmError } from '../errors.js';
import { allocOrEnomem, assertBytes, assertInt, show } from '../validate.js';
import type { Memslot, Memslots } from './memslots.js';
import { PAGE_BYTES } from './sparse-pages.js';

interface Piece {
  readonly slot: Memslot;
  readonly offset: number;
  readonly at: number;
  readonly n: number;
}

/** writeU64's bytes (the page copies them: one array for every call). */
const U64_BYTES = new Uint8Array(8);

/** The u64 at `gpa` (8 bytes inside one page) of `slot`, which backs it; an untouched page reads as zeros. */
function u64In(slot: Memslot, gpa: bigint): bigint {
  const off = Number(gpa - slot.baseGpa);
  const index = Math.floor(off / PAGE_BYTES);
  return slot.backing.pageAt(index)?.readU64(off - index * PAGE_BYTES) ?? 0n;
}

/** The u64 (lo, hi) into page `index` of `slot` at `inPage` (8 bytes inside the page), little-endian. */
function storeHalves(slot: Memslot, index: number, inPage: number, lo: number, hi: number): void {
  const b = U64_BYTES;
  b[0] = lo & 0xff; b[1] = (lo >>> 8) & 0xff; b[2] = (lo >>> 16) & 0xff; b[3] = (lo >>> 24) & 0xff;
  b[4] = hi & 0xff; b[5] = (hi >>> 8) & 0xff; b[6] = (hi >>> 16) & 0xff; b[7] = (hi >>> 24) & 0xff;
  slot.backing.pageFor(index).write(b, 0, inPage, 8);
}

export class GuestMemory {
  private readonly slots: Memslots;
  private readonly asId: number;

  constructor(slots: Memslots, asId = 0) {
    this.slots = slots;
    this.asId = asId;
  }

  /** Splits [gpa, gpa+length) into per-slot pieces, or throws EFAULT. */
  private pieces(gpa: bigint, length: number): Piece[] {
    // (Number.isInteger is false for anything that is not a number.)
    if (!Number.isInteger(length) || length < 0) throw new KvmError('EINVAL', `bad length ${show(length)}`, 'length');
    if (typeof gpa !== 'bigint') throw new KvmError('EINVAL', `GPA ${show(gpa)} is not a bigint`, 'gpa');
    if (gpa < 0n) throw new KvmError('EFAULT', `negative GPA ${gpa}`, 'gpa');
    const out: Piece[] = [];
    let at = 0;
    while (at < length) {
      const addr = gpa + BigInt(at);
      const slot = this.slots.findByGfn(addr >> 12n, this.asId);
      if (slot === undefined) throw new KvmError('EFAULT', `GPA 0x${addr.toString(16)} is in no memslot`, 'gpa');
      const offsetBig = addr - slot.baseGpa;
      const room = slot.sizeBytes - offsetBig;
      // Stryker disable next-line EqualityOperator: the smaller of two values; when they are equal either is it.
      const n = Number(BigInt(length - at) < room ? BigInt(length - at) : room);
      out.push({ slot, offset: Number(offsetBig), at, n });
      at += n;
    }
    return out;
  }

  read(gpa: bigint, length: number): Uint8Array {
    // Validate (EINVAL/EFAULT) before allocating: a negative or fractional length would make
    // the Uint8Array constructor throw a raw RangeError; one too large for a buffer is ENOMEM.
    const pieces = this.pieces(gpa, length);
    const out = allocOrEnomem('length', () => new Uint8Array(length));
    for (const p of pieces) p.slot.backing.read(p.offset, out, p.at, p.n);
    return out;
  }

  write(gpa: bigint, bytes: Uint8Array): void {
    assertBytes(bytes, 'bytes');
    for (const p of this.pieces(gpa, bytes.length)) p.slot.backing.write(p.offset, bytes, p.at, p.n);
  }

  /** memset() of guest memory from the VMM. */
  fill(gpa: bigint, length: number, value: number): void {
    assertInt(value, -0x80, 0xff, 'fill value', 'value');
    for (const p of this.pieces(gpa, length)) p.slot.backing.fill(p.offset, p.n, value & 0xff);
  }

  /**
   * The slot of an 8-byte access that stays inside one page (what every page-table entry is),
   * or undefined for the general path. Table walks read thousands of entries per second of a
   * migration; this path allocates nothing.
   */
  private u64Slot(gpa: bigint): Memslot | undefined {
    if (typeof gpa !== 'bigint' || gpa < 0n || (gpa & 0xfffn) > 0xff8n) return undefined;
    return this.slots.findByGfn(gpa >> 12n, this.asId); // none: the general path raises the EFAULT
  }

  readU64(gpa: bigint): bigint {
    const slot = this.u64Slot(gpa);
    // Stryker disable next-line ConditionalExpression: always taking the general path gives the same value (only slower).
    if (slot === undefined) return readLe(this.read(gpa, 8), 0, 8);
    return u64In(slot, gpa);
  }

  /**
   * readU64 of an 8-byte entry inside one page, or undefined when no slot backs it (instead of
   * EFAULT): what a page-table walker needs, in one slot lookup.
   */
  readU64IfMapped(gpa: bigint): bigint | undefined {
    if (typeof gpa !== 'bigint' || gpa < 0n || (gpa & 0xfffn) > 0xff8n) return this.isMapped(gpa, 8) ? this.readU64(gpa) : undefined;
    const slot = this.slots.findByGfn(gpa >> 12n, this.asId);
    return slot === undefined ? undefined : u64In(slot, gpa);
  }

  /**
   * The page-table entry at `gpa` as two 32-bit halves (out[0] = bits 31:0, out[1] = bits 63:32),
   * for walkers that work in doubles: `gpa` is a number, 8-byte aligned, below 2^53. False, with
   * both halves 0, when no slot backs it. Any other address is a caller's bug (a RangeError).
   */
  readEntryHalves(gpa: number, out: Uint32Array): boolean {
    const slot = this.entrySlot(gpa);
    if (slot === undefined) {
      out[0] = 0;
      out[1] = 0;
      return false;
    }
    const off = gpa - slot.baseGfnNumber * PAGE_BYTES;
    const index = Math.floor(off / PAGE_BYTES);
    const page = slot.backing.pageAt(index);
    if (page === undefined) {
      out[0] = 0;
      out[1] = 0;
    } else page.readHalves(off - index * PAGE_BYTES, out);
    return true;
  }

  /** writeU64 of an entry given as halves (addresses as readEntryHalves takes them); false, writing nothing, when no slot backs it. */
  writeEntryHalves(gpa: number, lo: number, hi: number): boolean {
    const slot = this.entrySlot(gpa);
    if (slot === undefined) return false;
    const off = gpa - slot.baseGfnNumber * PAGE_BYTES;
    const index = Math.floor(off / PAGE_BYTES);
    storeHalves(slot, index, off - index * PAGE_BYTES, lo, hi);
    return true;
  }

  private entrySlot(gpa: number): Memslot | undefined {
    // (gpa & 7): the low bits of a safe integer, without the floating-point remainder `%` is above 2^31
    if (!Number.isSafeInteger(gpa) || gpa < 0 || (gpa & 7) !== 0) throw new RangeError(`entry address ${show(gpa)} is not an 8-byte aligned number below 2^53`);
    return this.slots.findByGfnNumber(Math.floor(gpa / PAGE_BYTES), this.asId);
  }

  writeU64(gpa: bigint, value: bigint): void {
    if (typeof value !== 'bigint') throw new KvmError('EINVAL', `u64 value ${show(value)} is not a bigint`, 'value');
    const slot = this.u64Slot(gpa);
    // Stryker disable next-line ConditionalExpression: always taking the general path writes the same bytes (only slower).
    if (slot === undefined) {
      const b = new Uint8Array(8);
      writeLe(b, 0, 8, value);
      this.write(gpa, b);
      return;
    }
    const off = Number(gpa - slot.baseGpa);
    const index = Math.floor(off / PAGE_BYTES);
    const v = BigInt.asUintN(64, value);
    storeHalves(slot, index, off - index * PAGE_BYTES, Number(v & 0xffff_ffffn), Number(v >> 32n));
  }

  /** Whether every byte of the range is backed by a slot. */
  isMapped(gpa: bigint, length = 1): boolean {
    // Slots are whole pages: a range inside one page is mapped iff its page is (the common case).
    if (typeof gpa === 'bigint' && gpa >= 0n && Number.isInteger(length) && length >= 0 && Number(gpa & 0xfffn) + length <= PAGE_BYTES) {
      return this.slots.findByGfn(gpa >> 12n, this.asId) !== undefined;
    }
    try {
      this.pieces(gpa, length);
      return true;
    } catch {
      return false;
    }
  }

  /** Pages materialised across all slots (what the model's memory really costs). */
  get residentPages(): number {
    let n = 0;
    for (const s of this.slots.list(this.asId)) n += s.backing.residentPages;
    return n;
  }

  /**
   * The slot's page at `gfn` (undefined = never written = zeros); nothing is allocated for an
   * untouched page. A page kept compact (guest-page.ts) comes as a fresh copy: read, do not write.
   */
  peekPage(gfn: bigint): Uint8Array | undefined {
    const slot = this.slots.findByGfn(gfn, this.asId);
    return slot?.backing.peek(Number(gfn - slot.baseGfn));
  }
}

export { PAGE_BYTES };
