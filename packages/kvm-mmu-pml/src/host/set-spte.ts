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

/**
 * The bits of a new leaf other than its pfn, by (kind choice, executable, writable): built once per
 * MMU configuration with the bigint helpers below, then combined with the pfn in 32-bit halves, so
 * the fault path allocates no bigint. Index: kind (0 none, 1 A/D disabled, 2 write-protect only) × 4
 * + executable × 2 + writable.
 */
const flagHalves = new WeakMap<KvmMmuState['cfg'], { lo: number; hi: number }[]>();

function leafFlags(m: KvmMmuState, kind: 0 | 1 | 2, executable: boolean, writable: boolean): { lo: number; hi: number } {
  let table = flagHalves.get(m.cfg);
  if (table === undefined) flagHalves.set(m.cfg, (table = []));
  const at = kind * 4 + (executable ? 2 : 0) + (writable ? 1 : 0);
  let f = table[at];
  if (f === undefined) {
    const k = m.cfg.kinds;
    let spte = kind === 1 ? k.adDisabled : kind === 2 ? (k.adWrprotOnly ?? 0n) : 0n;
    // Not speculative: the access is happening, so A is set now.
    spte |= spteShadowAccessedMask(k, spte, m.cfg.shadowAccessedMask);
    spte |= VMX_EPT_READABLE_MASK; // shadow_user_mask for EPT
    if (executable) spte |= VMX_EPT_EXECUTABLE_MASK; // shadow_x_mask
    spte |= RAM_MT_MASK; // kvm_x86_ops->get_mt_mask()
    spte |= SPTE_HOST_WRITEABLE;
    if (writable) {
      spte |= PT_WRITABLE_MASK | SPTE_MMU_WRITEABLE;
      spte |= spteShadowDirtyMask(k, spte, m.cfg.shadowDirtyMask);
    }
    if ((spte & PFN_BITS) !== 0n) throw new Error('kvm-mmu-pml: SPTE flag bits overlap the pfn (model bug)');
    table[at] = f = { lo: Number(spte & 0xffff_ffffn), hi: Number(spte >> 32n) };
  }
  return f;
}

/** Bits 51:12 of an SPTE: the host pfn (HOST_PFN_BASE + gfn, below 2^40). */
const PFN_BITS = ((1n << 52n) - 1n) & ~0xfffn;
/** HOST_PFN_BASE << 12, split: the pfn's bits 51:32 come from the base and gfn bits 39:20. */
const PFN_BASE_HI = Number((HOST_PFN_BASE << 12n) >> 32n);
const GFN_LOW_BITS = 2 ** 20;

// models set_spte() + mmu_set_spte() (arch/x86/kvm/mmu.c)
export function setSpte(m: KvmMmuState, v: VcpuVmx, a: SetSpteArgs): Spte {
  let kind: 0 | 1 | 2 = 0;
  if (m.cfg.variant === 'pre-fix') {
    // hunk (v5.3 set_spte): only A/D-disabled pages carry the special bit
    if (a.table.adDisabled) kind = 1;
  } else {
    // hunk (v5.4 set_spte, "fix nested guest live migration with PML"): shadow-EPT leaves
    // with A/D are AD_WRPROT_ONLY, so dirty logging write-protects them instead of using PML
    if (a.table.adDisabled) kind = 1;
    else if (kvmVcpuAdNeedWriteProtect(v)) kind = 2;
  }
  // mmu_need_write_protect(): a gfn holding EPT12 tables that shadow EPT was built from stays read-only
  const writable = a.writable && !m.tracker.isTracked(a.gfn);
  if (writable) m.markPageDirty(a.gfn);
  const f = leafFlags(m, kind, a.executable, writable);
  // the pfn, (HOST_PFN_BASE + gfn) << 12, in halves (gfn < 2^32: a 44-bit L1 address space and more)
  const lo = (f.lo | ((a.gfn % GFN_LOW_BITS) * 4096)) >>> 0;
  const hi = (f.hi | (PFN_BASE_HI + Math.floor(a.gfn / GFN_LOW_BITS))) >>> 0;
  m.stats.sptesSet++;
  const old = a.table.entries.get(a.inGfn);
  if (old !== undefined && old.gfn === a.gfn) {
    old.setHalves(lo, hi); // mmu_spte_update: same pfn, the rmap entry stays
    return old;
  }
  if (old !== undefined) m.drop(old); // a different pfn: drop_spte, then map anew
  const leaf = new Spte(0n, a.table, a.inGfn, a.gfn, a.slot, a.gfn - a.slot.baseGfnNumber);
  leaf.setHalves(lo, hi);
  m.link(leaf);
  return leaf;
}
