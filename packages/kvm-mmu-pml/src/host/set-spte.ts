/**
 * Leaf creation: set_spte() and mmu_set_spte() (arch/x86/kvm/mmu.c). A writable leaf marks
 * its L1 gfn dirty at once and starts with D = 1, so the first write never goes through PML.
 * The variant switches only the kind choice the fix added (AD_WRPROT_ONLY for shadow EPT).
 */
import {
  VMX_EPT_EXECUTABLE_MASK,
  VMX_EPT_IPAT_BIT,
  VMX_EPT_MT_EPTE_SHIFT,
  VMX_EPT_MT_WB,
  VMX_EPT_READABLE_MASK,
  type Memslot,
} from '@kvmlab/hypervisor-core';
import { PT_WRITABLE_MASK, SPTE_HOST_WRITEABLE, SPTE_MMU_WRITEABLE } from '../constants.js';
import { Spte, type SpteTable } from './mmu-pages.js';
import type { KvmMmuState } from './shapes.js';
import { spteShadowAccessedMask, spteShadowDirtyMask } from './spte.js';
import type { VcpuVmx } from './vcpu-vmx.js';

/** Host page frames of the model: L1 gfn g lives at host pfn HOST_PFN_BASE + g (fake, stable). */
export const HOST_PFN_BASE = 0x1_0000_0000n;

export interface SetSpteArgs {
  readonly table: SpteTable;
  readonly inGfn: number;
  /** The L1 gfn the leaf maps. */
  readonly gfn: number;
  readonly slot: Memslot;
  /** ACC_WRITE_MASK in pte_access. */
  readonly writable: boolean;
  readonly executable: boolean;
}

// models kvm_vcpu_ad_need_write_protect() (mmu.c, v5.4): the vCPU's MMU is guest_mmu (nested EPT)
export function kvmVcpuAdNeedWriteProtect(v: VcpuVmx): boolean {
  return v.vcpu.x86.guestMode && v.nestedEpt;
}

/** models vmx_get_mt_mask() (vmx.c) for RAM without non-coherent DMA: write-back, ignoring the guest PAT (IPAT). */
export const RAM_MT_MASK = (VMX_EPT_MT_WB << VMX_EPT_MT_EPTE_SHIFT) | VMX_EPT_IPAT_BIT;

// models set_spte() + mmu_set_spte() (arch/x86/kvm/mmu.c)
export function setSpte(m: KvmMmuState, v: VcpuVmx, a: SetSpteArgs): Spte {
  const k = m.cfg.kinds;
  let spte = 0n;
  if (m.cfg.variant === 'pre-fix') {
    // hunk (v5.3 set_spte): only A/D-disabled pages carry the special bit
    if (a.table.adDisabled) spte |= k.adDisabled;
  } else {
    // hunk (v5.4 set_spte, "fix nested guest live migration with PML"): shadow-EPT leaves
    // with A/D are AD_WRPROT_ONLY, so dirty logging write-protects them instead of using PML
    if (a.table.adDisabled) spte |= k.adDisabled;
    else if (kvmVcpuAdNeedWriteProtect(v)) spte |= k.adWrprotOnly ?? 0n;
  }
  // Not speculative: the access is happening, so A is set now.
  spte |= spteShadowAccessedMask(k, spte, m.cfg.shadowAccessedMask);
  spte |= VMX_EPT_READABLE_MASK; // shadow_user_mask for EPT
  if (a.executable) spte |= VMX_EPT_EXECUTABLE_MASK; // shadow_x_mask
  spte |= RAM_MT_MASK; // kvm_x86_ops->get_mt_mask()
  spte |= SPTE_HOST_WRITEABLE;
  spte |= (HOST_PFN_BASE + BigInt(a.gfn)) << 12n;
  // mmu_need_write_protect(): a gfn holding EPT12 tables that shadow EPT was built from stays read-only
  if (a.writable && !m.tracker.isTracked(a.gfn)) {
    spte |= PT_WRITABLE_MASK | SPTE_MMU_WRITEABLE;
    m.markPageDirty(a.gfn);
    spte |= spteShadowDirtyMask(k, spte, m.cfg.shadowDirtyMask);
  }
  m.stats.sptesSet++;
  const old = a.table.entries.get(a.inGfn);
  if (old !== undefined && old.gfn === a.gfn) {
    old.value = spte; // mmu_spte_update: same pfn, the rmap entry stays
    return old;
  }
  if (old !== undefined) m.drop(old); // a different pfn: drop_spte, then map anew
  const leaf = new Spte(spte, a.table, a.inGfn, a.gfn, a.slot, a.gfn - a.slot.baseGfnNumber);
  m.link(leaf);
  return leaf;
}
