/**
 * walkEpt (ept.ts) with addresses in doubles and entries as two 32-bit halves: the walk a
 * shadow-EPT MMU makes on every EPT violation of L2 (FNAME(walk_addr_generic) with PTTYPE_EPT,
 * arch/x86/kvm/paging_tmpl.h of v5.4), tens of thousands per second of a nested migration. It
 * reads the same entries, writes the same A/D updates in the same order and reaches the same
 * outcome as walkEpt — which stays the reference, and a property test compares the two on random
 * tables — but allocates nothing: the result goes into a reusable EptWalkHalves.
 *
 * Every address involved fits a double exactly: entries hold bits 51:12 (MAXPHYADDR ≤ 52), and a
 * 4-level walk uses only bits 47:0 of the input address (the bits above index no table).
 */
import {
  EPT_ADDR_MASK, EPT_LARGE_PAGE, eptpAdEnabled, VMX_EPT_ACCESS_BIT, VMX_EPT_DIRTY_BIT, VMX_EPT_EXECUTABLE_MASK, VMX_EPT_READABLE_MASK,
  VMX_EPT_RWX_MASK, VMX_EPT_WRITABLE_MASK, type EptWalkResult,
} from './ept.js';

/** ept.ts's entry bits as numbers (all in the low half): R, W, X, large page, A, D. */
const R = Number(VMX_EPT_READABLE_MASK);
const W = Number(VMX_EPT_WRITABLE_MASK);
const X = Number(VMX_EPT_EXECUTABLE_MASK);
const RWX = Number(VMX_EPT_RWX_MASK);
const LARGE = Number(EPT_LARGE_PAGE);
const ACCESSED = Number(VMX_EPT_ACCESS_BIT);
const DIRTY = Number(VMX_EPT_DIRTY_BIT);
const TWO_32 = 2 ** 32;
/** Bits 51:32 of an address: the part of bits 51:12 in an entry's high half. */
const HI_ADDR_BITS = 0xf_ffff;
/** The input-address bits a 4-level walk uses (47:0). */
const INPUT_BITS = 48;
const INPUT_LIMIT = 1n << BigInt(INPUT_BITS);
/** Per level (1–4): the bytes one entry maps (4 KiB, 2 MiB, 1 GiB, 512 GiB). */
const SPAN = [0, 1, 2, 3, 4].map((l) => 2 ** (12 + 9 * Math.max(l - 1, 0)));

/** Where the walker reads and writes entries (physical memory of whoever owns the tables). */
export interface EptEntryMemory {
  /** The entry at `pa` (8-byte aligned, below 2^52) into out[0] (bits 31:0) and out[1] (bits 63:32); 0 where nothing backs it. */
  readEntry(pa: number, out: Uint32Array): void;
  /** An A/D update of the entry at `pa`. */
  writeEntry(pa: number, lo: number, hi: number): void;
}

/** One walk's outcome, filled in place (the fields of EptWalkResult, as numbers). */
export class EptWalkHalves {
  ok = false;
  /** When !ok: 'not-present' (R=W=X=0 at `level`) or 'permission'. */
  reason: 'not-present' | 'permission' = 'not-present';
  level = 0;
  /** R/W/X allowed by every level used (0 when not present). */
  rwx = 0;
  /** When ok: the translated address, the leaf entry after A/D updates, and where it lives. */
  pa = 0;
  leafLo = 0;
  leafHi = 0;
  leafAddr = 0;
  /** Whether this walk set the leaf's D flag. */
  setDirty = false;
  /** Where each entry used lives, PML4E first; `pathLength` of them are this walk's (the array is reused: copy to keep). */
  readonly path: number[] = [0, 0, 0, 0];
  pathLength = 0;

  /** The same outcome as walkEpt's result type, for callers and tests that want it. */
  toResult(): EptWalkResult {
    if (!this.ok) return { ok: false, reason: this.reason, level: this.level, rwx: BigInt(this.rwx) };
    return {
      ok: true,
      pa: BigInt(this.pa),
      level: this.level,
      leaf: (BigInt(this.leafHi) << 32n) | BigInt(this.leafLo),
      leafAddr: BigInt(this.leafAddr),
      rwx: BigInt(this.rwx),
      setDirty: this.setDirty,
      path: this.path.slice(0, this.pathLength).map((a) => BigInt(a)),
    };
  }
}

const ENTRY = new Uint32Array(2);
/**
 * The 9-bit table index a level takes from the input address (bits 20:12, 29:21, 38:30, 47:39),
 * given as its bits 31:0 and 47:32.
 * From the two 32-bit halves, as integer shifts: on a double above 2^31, `%` is a floating-point
 * remainder, the slowest step of a walk that did it per level.
 */
function indexAt(level: number, inputLo: number, inputHi: number): number {
  switch (level) {
    case 1: return (inputLo >>> 12) & 511;
    case 2: return (inputLo >>> 21) & 511;
    case 3: return ((inputLo >>> 30) | (inputHi << 2)) & 511;
    default: return (inputHi >>> 7) & 511;
  }
}

/** An EPTP's A/D enable and its PML4 address as a number, for the EPTP walked last (a vCPU walks one EPTP many times). */
let lastEptp = -1n;
let lastAd = false;
let lastRoot = 0;

/** The address bits 51:12 of an entry, as a number. */
const entryAddr = (lo: number, hi: number): number => (hi & HI_ADDR_BITS) * TWO_32 + ((lo & ~0xfff) >>> 0);

/**
 * Translates `gpa` through the EPT rooted at `eptp` into `out` (and returns it). With A/D
 * enabled, A is set on every entry used and, for a permitted write, D on the leaf (§28.2.4).
 */
export function walkEptHalves(mem: EptEntryMemory, eptp: bigint, gpa: bigint, write: boolean, fetch: boolean, out: EptWalkHalves): EptWalkHalves {
  if (eptp !== lastEptp) {
    lastAd = eptpAdEnabled(eptp);
    lastRoot = Number(eptp & EPT_ADDR_MASK);
    lastEptp = eptp;
  }
  const ad = lastAd;
  const input = gpa >= 0n && gpa < INPUT_LIMIT ? Number(gpa) : Number(BigInt.asUintN(INPUT_BITS, gpa));
  const inputLo = input >>> 0; // ToUint32: the input modulo 2^32, exact for an integer below 2^53
  const inputHi = (input - inputLo) / TWO_32;
  let table = lastRoot;
  let rwx = RWX;
  out.ok = false;
  out.setDirty = false;
  out.pathLength = 0;
  for (let level = 4; level >= 1; level--) {
    const addr = table + indexAt(level, inputLo, inputHi) * 8;
    out.path[out.pathLength++] = addr;
    mem.readEntry(addr, ENTRY);
    let lo = ENTRY[0]!;
    const hi = ENTRY[1]!;
    out.level = level;
    if ((lo & RWX) === 0) {
      out.reason = 'not-present';
      out.rwx = 0;
      return out;
    }
    rwx &= lo & RWX;
    const isLeaf = level === 1 || ((level === 2 || level === 3) && (lo & LARGE) !== 0);
    if (isLeaf) {
      out.rwx = rwx;
      if ((write && (rwx & W) === 0) || (fetch && (rwx & X) === 0) || (rwx & R) === 0) {
        out.reason = 'permission';
        return out;
      }
      if (ad) {
        let n = lo | ACCESSED;
        if (write && (lo & DIRTY) === 0) {
          n |= DIRTY;
          out.setDirty = true;
        }
        if (n !== lo) {
          mem.writeEntry(addr, n >>> 0, hi);
          lo = n >>> 0;
        }
      }
      // A leaf maps at most 1 GiB, so its offset bits are all in the low halves (span divides 2^32).
      const base = entryAddr(lo, hi);
      const offsetMask = SPAN[level]! - 1;
      out.ok = true;
      out.pa = base - ((base >>> 0) & offsetMask) + (inputLo & offsetMask);
      out.leafLo = lo;
      out.leafHi = hi;
      out.leafAddr = addr;
      return out;
    }
    if (ad && (lo & ACCESSED) === 0) mem.writeEntry(addr, (lo | ACCESSED) >>> 0, hi);
    table = entryAddr(lo, hi);
  }
  out.reason = 'not-present'; // not reached: level 1 is always a leaf (as in walkEpt)
  out.rwx = 0;
  return out;
}
