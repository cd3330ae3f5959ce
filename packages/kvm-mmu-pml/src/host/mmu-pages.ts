/**
 * The shadow/TDP page structures reduced to what dirty logging touches: leaf SPTEs (real
 * 64-bit values), the tables that hold them (one per root: L1's TDP root, and one shadow-EPT
 * root per EPTP12), and the rmap — per **L1 gfn**, every leaf SPTE that maps it, TDP and
 * shadow EPT alike (arch/x86/kvm/mmu.c, struct kvm_rmap_head). Only 4 KiB leaves exist here:
 * large pages are out of scope.
 */
import type { GuestPage, Memslot } from '@kvmlab/hypervisor-core';

export type TableKind = 'tdp' | 'shadow-ept';

/**
 * A leaf SPTE. The 64-bit value is a bigint, as the CPU reads it; beside it the leaf keeps its
 * low 32 bits as a number (`lo`: R/W/X, A, D — every flag a guest access tests), updated by
 * the one setter every change goes through, so the access fast path tests flags without
 * bigint arithmetic. All leaves are built by this constructor, so they share one object shape.
 */
export class Spte {
  #value: bigint;
  /** Bits 31:0 of `value`, as a number. */
  lo: number;
  /** The backing page, once a store went through the leaf (the pfn it points at; pages are never freed while the VM lives). */
  data: GuestPage | undefined = undefined;
  /** Shadow EPT: where the EPT12 entries it was built from live (they are write-tracked). */
  ept12Entries: readonly bigint[] | undefined = undefined;

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
    this.#value = value;
    this.lo = Number(value & LOW_32);
  }

  /** The SPTE as the CPU reads it (EPT format plus KVM's software bits). */
  get value(): bigint {
    return this.#value;
  }

  set value(v: bigint) {
    this.#value = v;
    this.lo = Number(v & LOW_32);
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
  readonly entries: Map<number, Spte>;
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
