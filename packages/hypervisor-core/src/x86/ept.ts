/**
 * The EPT entry format and a walker over EPT tables that live in guest memory as real 8-byte
 * little-endian entries (SDM vol. 3 §28.2.2–§28.2.5; arch/x86/include/asm/vmx.h). The walker
 * is what a CPU (or KVM's shadow-EPT code, paging_tmpl.h with PTTYPE_EPT) does: 4 levels,
 * 9 bits each, leaves at level 1 or a large page at level 2/3, and — when the EPTP enables
 * accessed/dirty flags — A set on every entry used and D on the leaf of a write.
 */

export const VMX_EPT_READABLE_MASK = 1n << 0n; // asm/vmx.h
export const VMX_EPT_WRITABLE_MASK = 1n << 1n; // asm/vmx.h
export const VMX_EPT_EXECUTABLE_MASK = 1n << 2n; // asm/vmx.h
export const VMX_EPT_RWX_MASK = 7n; // asm/vmx.h
export const VMX_EPT_IPAT_BIT = 1n << 6n; // asm/vmx.h
export const EPT_LARGE_PAGE = 1n << 7n; // SDM §28.2.2 (bit 7 of a PDPTE/PDE: maps a page)
export const VMX_EPT_ACCESS_BIT = 1n << 8n; // asm/vmx.h
export const VMX_EPT_DIRTY_BIT = 1n << 9n; // asm/vmx.h
export const VMX_EPT_MT_EPTE_SHIFT = 3n; // asm/vmx.h
export const VMX_EPT_MT_WB = 6n; // asm/vmx.h (memory type write-back)
/** Bits 51:12 of an entry or of the EPTP hold a physical address. */
export const EPT_ADDR_MASK = ((1n << 52n) - 1n) & ~0xfffn;

// EPTP (SDM §24.6.11)
export const VMX_EPTP_MT_WB = 6n; // asm/vmx.h
export const VMX_EPTP_PWL_4 = 3n << 3n; // asm/vmx.h (page-walk length − 1 = 3)
export const VMX_EPTP_AD_ENABLE_BIT = 1n << 6n; // asm/vmx.h

/** An EPTP for a 4-level table at `pml4` (write-back; A/D flags if `ad`). */
export function makeEptp(pml4: bigint, ad: boolean): bigint {
  return (pml4 & EPT_ADDR_MASK) | VMX_EPTP_MT_WB | VMX_EPTP_PWL_4 | (ad ? VMX_EPTP_AD_ENABLE_BIT : 0n);
}

export const eptpAdEnabled = (eptp: bigint): boolean => (eptp & VMX_EPTP_AD_ENABLE_BIT) !== 0n;

/** Where the walker reads and writes entries (physical memory of whoever owns the tables). */
export interface EptMemory {
  readU64(pa: bigint): bigint;
  writeU64(pa: bigint, value: bigint): void;
}

export interface EptAccess {
  readonly write?: boolean;
  readonly fetch?: boolean;
}

export type EptWalkResult =
  | {
      readonly ok: true;
      /** The translated address (output of the tables). */
      readonly pa: bigint;
      /** 1 = 4 KiB leaf, 2 = 2 MiB, 3 = 1 GiB. */
      readonly level: number;
      /** The leaf entry after A/D updates, and where it lives. */
      readonly leaf: bigint;
      readonly leafAddr: bigint;
      /** R/W/X allowed by every level (the AND of the entries' low bits). */
      readonly rwx: bigint;
      /** Whether this walk set the leaf's D flag (0 → 1). */
      readonly setDirty: boolean;
      /** Where each entry the walk used lives, from the PML4E down to the leaf. */
      readonly path: readonly bigint[];
    }
  | {
      readonly ok: false;
      /** 'not-present' (an entry with R=W=X=0) or 'permission' (the access is not allowed). */
      readonly reason: 'not-present' | 'permission';
      readonly level: number;
      readonly rwx: bigint;
    };

/** Per level (1–4): the address bit its index starts at, and the offset mask of a page it maps (computed once, not per walk). */
const LEVEL_SHIFT: readonly bigint[] = [0, 1, 2, 3, 4].map((l) => 12n + 9n * BigInt(Math.max(l - 1, 0)));
const LEVEL_PAGE_MASK: readonly bigint[] = LEVEL_SHIFT.map((s) => (1n << s) - 1n);

/**
 * Translates `gpa` through the EPT rooted at `eptp`. With A/D enabled, the walk sets A on
 * every entry it uses and, for a permitted write, D on the leaf (SDM §28.2.4).
 */
export function walkEpt(mem: EptMemory, eptp: bigint, gpa: bigint, access: EptAccess = {}): EptWalkResult {
  const ad = eptpAdEnabled(eptp);
  let table = eptp & EPT_ADDR_MASK;
  let rwx = VMX_EPT_RWX_MASK;
  const path: bigint[] = [];
  for (let level = 4; level >= 1; level--) {
    const shift = LEVEL_SHIFT[level]!;
    const idx = (gpa >> shift) & 0x1ffn;
    const addr = table + idx * 8n;
    path.push(addr);
    let e = mem.readU64(addr);
    if ((e & VMX_EPT_RWX_MASK) === 0n) return { ok: false, reason: 'not-present', level, rwx: 0n };
    rwx &= e & VMX_EPT_RWX_MASK;
    const isLeaf = level === 1 || ((level === 2 || level === 3) && (e & EPT_LARGE_PAGE) !== 0n);
    if (isLeaf) {
      const denied = (access.write === true && (rwx & VMX_EPT_WRITABLE_MASK) === 0n) ||
        (access.fetch === true && (rwx & VMX_EPT_EXECUTABLE_MASK) === 0n) ||
        (rwx & VMX_EPT_READABLE_MASK) === 0n;
      if (denied) return { ok: false, reason: 'permission', level, rwx };
      let setDirty = false;
      if (ad) {
        let n = e | VMX_EPT_ACCESS_BIT;
        if (access.write === true && (e & VMX_EPT_DIRTY_BIT) === 0n) {
          n |= VMX_EPT_DIRTY_BIT;
          setDirty = true;
        }
        if (n !== e) {
          mem.writeU64(addr, n);
          e = n;
        }
      }
      const pageMask = LEVEL_PAGE_MASK[level]!;
      return { ok: true, pa: (e & EPT_ADDR_MASK & ~pageMask) | (gpa & pageMask), level, leaf: e, leafAddr: addr, rwx, setDirty, path };
    }
    if (ad && (e & VMX_EPT_ACCESS_BIT) === 0n) mem.writeU64(addr, e | VMX_EPT_ACCESS_BIT);
    table = e & EPT_ADDR_MASK;
  }
  return { ok: false, reason: 'not-present', level: 1, rwx: 0n };
}

/**
 * Builds EPT tables in `mem`, allocating table pages with `allocPage` (returns a zeroed page's
 * physical address). For guest programs (e.g. an L1 that sets up EPT12) and tests.
 */
export class EptBuilder {
  readonly pml4: bigint;
  private readonly mem: EptMemory;
  private readonly allocPage: () => bigint;

  constructor(mem: EptMemory, allocPage: () => bigint) {
    this.mem = mem;
    this.allocPage = allocPage;
    this.pml4 = allocPage();
  }

  eptp(ad: boolean): bigint {
    return makeEptp(this.pml4, ad);
  }

  /** Maps the 4 KiB page at `gpa` to `pa` with permissions `rwx` (default RWX). */
  map4k(gpa: bigint, pa: bigint, rwx: bigint = VMX_EPT_RWX_MASK, extra = 0n): bigint {
    let table = this.pml4;
    for (let level = 4; level > 1; level--) {
      const idx = (gpa >> (12n + 9n * BigInt(level - 1))) & 0x1ffn;
      const addr = table + idx * 8n;
      let e = this.mem.readU64(addr);
      if ((e & VMX_EPT_RWX_MASK) === 0n) {
        e = this.allocPage() | VMX_EPT_RWX_MASK;
        this.mem.writeU64(addr, e);
      }
      table = e & EPT_ADDR_MASK;
    }
    const leafAddr = table + ((gpa >> 12n) & 0x1ffn) * 8n;
    this.mem.writeU64(leafAddr, (pa & EPT_ADDR_MASK) | rwx | (VMX_EPT_MT_WB << VMX_EPT_MT_EPTE_SHIFT) | extra);
    return leafAddr;
  }
}
