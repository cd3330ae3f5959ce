/**
 * EPT violations while L2 runs on shadow EPT: KVM walks L1's EPT12 (real 8-byte entries in
 * L1 memory) to find the L1 gfn behind the L2 GPA, then builds the EPT02 leaf with set_spte().
 * A write-protected leaf takes the same full walk: there is no fast path for shadow EPT.
 * FNAME(page_fault) with PTTYPE_EPT, arch/x86/kvm/paging_tmpl.h.
 */
import {
  EPT_POINTER,
  eptpAdEnabled,
  EXIT_REASON_EPT_VIOLATION,
  VMX_EPT_DIRTY_BIT,
  VMX_EPT_EXECUTABLE_MASK,
  VMX_EPT_WRITABLE_MASK,
  walkEpt,
  type EptMemory,
} from '@kvmlab/hypervisor-core';
import type { ExitResult } from './exits.js';
import type { KvmMmuPml } from './kvm-mmu.js';
import { nestedVmxVmexit } from './nested.js';
import { setSpte } from './set-spte.js';
import type { VcpuVmx } from './vcpu-vmx.js';

/**
 * L1 memory as KVM's guest-table walker sees it: reads through the slots, and A/D updates
 * written back like FNAME(update_accessed_dirty_bits), which marks the table's gfn dirty.
 */
export function l1TableMemory(m: KvmMmuPml): EptMemory {
  const slots = m.vm.memslots;
  const at = (pa: bigint): { page: Uint8Array | undefined; off: number; ok: boolean } => {
    const slot = slots.findByGfn(pa >> 12n);
    if (slot === undefined || (pa & 7n) !== 0n) return { page: undefined, off: 0, ok: false };
    return { page: slot.backing.peek(Number((pa >> 12n) - slot.baseGfn)), off: Number(pa & 0xfffn), ok: true };
  };
  return {
    // A table entry outside L1's memory reads as not present (KVM's walker fails the walk).
    readU64: (pa) => {
      const { page, off } = at(pa);
      return page === undefined ? 0n : new DataView(page.buffer, page.byteOffset).getBigUint64(off, true);
    },
    writeU64: (pa, value) => {
      if (!at(pa).ok) return;
      m.vm.memory.writeU64(pa, value);
      m.markPageDirty(Number(pa >> 12n));
    },
  };
}

// models ept_page_fault(): FNAME(walk_addr) over EPT12, then FNAME(fetch) → set_spte(L1 gfn)
export function eptPageFault(m: KvmMmuPml, v: VcpuVmx, l2Gpa: bigint, write: boolean): ExitResult {
  const eptp12 = v.vmcs12.peek(EPT_POINTER);
  const walk = walkEpt(l1TableMemory(m), eptp12, l2Gpa, { write });
  if (!walk.ok) {
    // nested_ept_inject_page_fault(): EPT12 does not allow it, so it is L1's EPT violation.
    nestedVmxVmexit(m, v, EXIT_REASON_EPT_VIOLATION, { gpa: l2Gpa, qualification: write ? 2n : 1n });
    return 'reflected';
  }
  const gfn = Number(walk.pa >> 12n);
  const slot = m.vm.memslots.findByGfnNumber(gfn);
  if (slot === undefined || (write && slot.readonly)) return 'mmio';
  let writable = (walk.rwx & VMX_EPT_WRITABLE_MASK) !== 0n && !slot.readonly;
  // FNAME(protect_clean_gpte): a read through a clean EPT12 leaf maps read-only, so that the
  // first write faults and sets D in EPT12.
  if (!write && eptpAdEnabled(eptp12) && (walk.leaf & VMX_EPT_DIRTY_BIT) === 0n) writable = false;
  const inGfn = Number(l2Gpa >> 12n);
  const old = v.activeTable.entries.get(inGfn);
  if (write && old !== undefined && (old.value & VMX_EPT_WRITABLE_MASK) === 0n) v.exits.writeProtectFaults++;
  setSpte(m, v, {
    table: v.activeTable,
    inGfn,
    gfn,
    slot,
    writable,
    executable: (walk.rwx & VMX_EPT_EXECUTABLE_MASK) !== 0n,
  });
  return 'retry';
}
