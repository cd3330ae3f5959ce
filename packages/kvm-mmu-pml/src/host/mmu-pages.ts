/**
 * The shadow/TDP page structures reduced to what dirty logging touches: leaf SPTEs (real
 * 64-bit values), the tables that hold them (one per root: L1's TDP root, and one shadow-EPT
 * root per EPTP12), and the rmap — per **L1 gfn**, every leaf SPTE that maps it, TDP and
 * shadow EPT alike (arch/x86/kvm/mmu.c, struct kvm_rmap_head). Only 4 KiB leaves exist here:
 * large pages are out of scope.
 */
import type { GuestPage, Memslot, PageMap } from '@kvmlab/hypervisor-core';

export type TableKind = 'tdp' | 'shadow-ept';

/**
 * A leaf SPTE. The CPU reads a 64-bit value (`value`, a bigint); the leaf keeps it as two 32-bit
 * halves (numbers), because every guest access tests and sets flags of the low half (R/W/X, A,
 * D) and a bigint operation allocates. Every change goes through `value` or `setLowBits`, so the
 * halves are always the value. All leaves are built by this constructor, so they share one
 * object shape.
 */
export class Spte {
  /** Bits 31:0 of `value`. */
  lo: number;
  /** Bits 63:32 of `value` (the kind bits live here); changed only through `value`. */
  hi: number;
  /** The backing page, once a store went through the leaf (the pfn it points at; pages are never freed while the VM lives). */
  data: GuestPage | undefined = undefined;
  /** Shadow EPT: where the EPT12 entries it was built from live, as L1 physical addresses (they are write-tracked; below 2^52, exact in a double). */
  ept12Entries: readonly number[] | undefined = undefined;

  constructor(
    value: bigint,
    readonly table: SpteTable,
    /** The input gfn this leaf translates: an L1 gfn (TDP) or an L2 gfn (shadow EPT). */
    readonly inGfn: number,
    /** The L1 gfn it maps to: the rmap key and the gfn kvm_vcpu_mark_page_dirty() marks. */
    readonly gfn: number,
    readonly slot: Memslot,
    /** Page index of `gfn` in `slot`. */
    readonly page: number,
  ) {
    this.lo = value === 0n ? 0 : Number(value & LOW_32);
    this.hi = value === 0n ? 0 : Number((value >> 32n) & LOW_32);
  }

  /** value = (hi << 32) | lo, from two 32-bit halves (set_spte builds a leaf this way): no bigint. */
  setHalves(lo: number, hi: number): void {
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  /** The SPTE as the CPU reads it (EPT format plus KVM's software bits). */
  get value(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  set value(v: bigint) {
    this.lo = Number(v & LOW_32);
    this.hi = Number((v >> 32n) & LOW_32);
  }

  /** value |= bits, for flags of bits 31:0 (the CPU setting A and D): no bigint. */
  setLowBits(bits: number): void {
    this.lo = (this.lo | bits) >>> 0;
  }

  /** value &= ~bits, for flags of bits 31:0 (harvesting D, removing W); whether any was set. */
  clearLowBits(bits: number): boolean {
    const old = this.lo;
    this.lo = (old & ~bits) >>> 0;
    return this.lo !== old;
  }
}

const LOW_32 = 0xffff_ffffn;

export interface SpteTable {
  /** root_hpa: a host-physical address, what EPT_POINTER holds. */
  readonly root: bigint;
  readonly kind: TableKind;
  /** sp->role.ad_disabled: the SPTEs of this root have no A/D flags. */
  readonly adDisabled: boolean;
  /** For shadow EPT: the EPTP12 it shadows. */
  readonly eptp12: bigint | undefined;
  /** Leaves by input gfn. */
  readonly entries: PageMap<Spte>;
}

/** Per-L1-gfn reverse map. */
export class Rmap {
  private readonly heads = new Map<number, Spte[]>();

  add(spte: Spte): void {
    const h = this.heads.get(spte.gfn);
    if (h === undefined) this.heads.set(spte.gfn, [spte]);
    else h.push(spte);
  }

  remove(spte: Spte): void {
    const h = this.heads.get(spte.gfn);
    if (h === undefined) return;
    const i = h.indexOf(spte);
    if (i >= 0) h.splice(i, 1);
    if (h.length === 0) this.heads.delete(spte.gfn);
  }

  get(gfn: number): readonly Spte[] {
    return this.heads.get(gfn) ?? [];
  }

  /** Every rmap head inside [firstGfn, firstGfn + n). */
  *range(firstGfn: number, n: number): IterableIterator<readonly Spte[]> {
    if (n < this.heads.size) {
      for (let g = firstGfn; g < firstGfn + n; g++) {
        const h = this.heads.get(g);
        if (h !== undefined) yield h;
      }
    } else {
      for (const [g, h] of this.heads) if (g >= firstGfn && g < firstGfn + n) yield h;
    }
  }

  get size(): number {
    return this.heads.size;
  }
}
