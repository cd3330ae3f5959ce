/**
 * Write tracking of L1's EPT12 pages (kvm_slot_page_track_add_page() / account_shadowed(),
 * kvm_mmu_pte_write() in arch/x86/kvm/mmu.c of v5.4). Once a shadow-EPT leaf is built from an
 * EPT12 walk, the table pages of that walk are write-protected in every SPTE that maps them, so an
 * L1 store to one of them faults; L0 emulates the store and zaps the shadow leaves built from the
 * entry it changed. That is how L2 comes to see L1's changes to EPT12 — not INVEPT, which 5.3/5.4
 * emulate by doing nothing. (KVM lets last-level table pages go "unsync" instead and resyncs them
 * at the next nested VM-Enter; the model tracks every level, so the shadow follows at the store.)
 */
import { PT_WRITABLE_MASK, SPTE_MMU_WRITEABLE } from '../constants.js';
import type { Spte } from './mmu-pages.js';

/** What the tracker needs of the MMU (a types-only view, so the two files do not import each other). */
export interface TrackedMmu {
  readonly rmap: { get(gfn: number): readonly Spte[] };
  drop(spte: Spte): void;
}

export class Ept12Tracker {
  /**
   * EPT12 entry address → the shadow leaves built through it. Keyed by the address as a number:
   * an L1 physical address is below 2^52 (MAXPHYADDR), exact in a double, and number keys hash
   * without allocating.
   */
  private readonly users = new Map<number, Set<Spte>>();
  /** L1 gfn of an EPT12 table page → how many (leaf, entry) links reach it. */
  private readonly pages = new Map<number, number>();

  isTracked(gfn: number): boolean {
    return this.pages.has(gfn);
  }

  /** A shadow leaf was built through EPT12 entries at `path`: write-protect their pages. */
  track(m: TrackedMmu, leaf: Spte, path: readonly number[]): void {
    leaf.ept12Entries = path;
    for (const addr of path) {
      let set = this.users.get(addr);
      if (set === undefined) this.users.set(addr, (set = new Set()));
      set.add(leaf);
      const gfn = Math.floor(addr / 4096);
      const n = this.pages.get(gfn) ?? 0;
      this.pages.set(gfn, n + 1);
      if (n === 0) {
        // rmap_write_protect(pt_protect = true): not writable, and not by the lockless fast path either.
        for (const s of m.rmap.get(gfn)) s.value &= ~(PT_WRITABLE_MASK | SPTE_MMU_WRITEABLE);
      }
    }
  }

  /** A leaf went away: its entries no longer pin the table pages. */
  untrack(leaf: Spte): void {
    for (const addr of leaf.ept12Entries ?? []) {
      this.users.get(addr)?.delete(leaf);
      const gfn = Math.floor(addr / 4096);
      const n = (this.pages.get(gfn) ?? 1) - 1;
      if (n <= 0) this.pages.delete(gfn);
      else this.pages.set(gfn, n);
    }
    leaf.ept12Entries = undefined;
  }

  /** kvm_mmu_pte_write(): L1 stored `length` bytes at `gpa` of a tracked page; zap the leaves built from those entries. */
  written(m: TrackedMmu, gpa: bigint, length: number): number {
    let zapped = 0;
    for (let e = gpa & ~7n; e < gpa + BigInt(length); e += 8n) {
      for (const leaf of [...(this.users.get(Number(e)) ?? [])]) {
        m.drop(leaf);
        zapped++;
      }
    }
    return zapped;
  }
}
