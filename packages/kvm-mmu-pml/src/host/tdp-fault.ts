/**
 * EPT violations on L0's TDP table: L1's own accesses, and L2's when L1 runs it without EPT12
 * (L2 then uses L1's TDP, so its addresses are L1 GPAs). arch/x86/kvm/mmu.c.
 */
import { PT_WRITABLE_MASK, SPTE_HOST_WRITEABLE, SPTE_MMU_WRITEABLE } from '../constants.js';
import { setSpte } from './set-spte.js';
import type { ExitResult, KvmMmuState } from './shapes.js';
import type { VcpuVmx } from './vcpu-vmx.js';

const LOCKLESS_WRITABLE = SPTE_HOST_WRITEABLE | SPTE_MMU_WRITEABLE;

// models tdp_page_fault() (mmu.c): fast path first, then write tracking, else map the gfn with set_spte()
export function tdpPageFault(m: KvmMmuState, v: VcpuVmx, gfn: number, write: boolean): ExitResult {
  const slot = m.vm.memslots.findByGfnNumber(gfn);
  // No slot (or a store to a read-only slot): emulated as MMIO, the VMM sees KVM_EXIT_MMIO.
  if (slot === undefined || (write && slot.readonly)) return 'mmio';
  const table = v.activeTable;
  if (write && fastPageFault(m, v, gfn)) return 'retry';
  // page_fault_handle_page_track(): a store to a write-tracked page (one of L1's EPT12 tables
  // that shadow EPT was built from) is emulated by L0, never mapped writable.
  if (write && m.tracker.isTracked(gfn)) return { emulate: BigInt(gfn) << 12n };
  setSpte(m, v, { table, inGfn: gfn, gfn, slot, writable: !slot.readonly, executable: true });
  return 'retry';
}

// models fast_page_fault() + fast_pf_fix_direct_spte() (mmu.c): a write-protected leaf that
// KVM itself protected (MMU-writable) becomes writable again without the MMU lock, and the
// gfn is marked dirty. D is left as it is.
export function fastPageFault(m: KvmMmuState, v: VcpuVmx, gfn: number): boolean {
  const spte = v.activeTable.entries.get(gfn);
  if (spte === undefined) return false;
  const old = spte.value;
  if ((old & PT_WRITABLE_MASK) !== 0n) return true; // already fixed (another vCPU)
  if ((old & LOCKLESS_WRITABLE) !== LOCKLESS_WRITABLE) return false;
  spte.value = old | PT_WRITABLE_MASK;
  v.exits.writeProtectFaults++;
  m.markPageDirty(spte.gfn);
  return true;
}
