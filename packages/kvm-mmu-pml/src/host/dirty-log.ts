/**
 * The dirty-log paths of the x86 MMU on top of core's GET/CLEAR (arch/x86/kvm/mmu.c, x86.c,
 * vmx/vmx.c): what enabling and disabling logging does to existing leaves, and how a harvested
 * page is armed again. __rmap_clear_dirty is the function the fix rewrote.
 */
import { VMX_EPT_DIRTY_BIT, type Memslot, type MemslotChange } from '@kvmlab/hypervisor-core';
import { PT_WRITABLE_MASK } from '../constants.js';
import type { Spte } from './mmu-pages.js';
import type { KvmMmuState } from './shapes.js';
import { leafAdEnabled, leafAdNeedWriteProtect } from './spte.js';

/** The flags these paths change, all in bits 31:0 (Spte.lo). */
const DIRTY = Number(VMX_EPT_DIRTY_BIT);
const WRITABLE = Number(PT_WRITABLE_MASK);

// models spte_clear_dirty() (mmu.c): D off, W kept
function spteClearDirty(s: Spte): boolean {
  return s.clearLowBits(DIRTY);
}

// models wrprot_ad_disabled_spte() (mmu.c, v5.3): W off; a host page that was writable is dirtied
function wrprotAdDisabledSpte(m: KvmMmuState, s: Spte): boolean {
  const wasWritable = s.clearLowBits(WRITABLE);
  if (wasWritable) m.stats.hostPfnsDirtied++;
  return wasWritable;
}

// models spte_wrprot_for_clear_dirty() (mmu.c, v5.4): W off; host page dirtied only if no A/D
function spteWrprotForClearDirty(m: KvmMmuState, s: Spte): boolean {
  const wasWritable = s.clearLowBits(WRITABLE);
  if (wasWritable && !leafAdEnabled(m.cfg.kinds, s)) m.stats.hostPfnsDirtied++;
  return wasWritable;
}

// models __rmap_clear_dirty() (arch/x86/kvm/mmu.c)
export function rmapClearDirty(m: KvmMmuState, head: readonly Spte[]): boolean {
  const k = m.cfg.kinds;
  let flush = false;
  for (const s of head) {
    let changed: boolean;
    if (m.cfg.variant === 'pre-fix') {
      // hunk (v5.3 __rmap_clear_dirty): every SPTE with A/D loses D and stays writable
      changed = leafAdEnabled(k, s) ? spteClearDirty(s) : wrprotAdDisabledSpte(m, s);
    } else {
      // hunk (v5.4 __rmap_clear_dirty): AD_DISABLED and AD_WRPROT_ONLY are write-protected
      changed = leafAdNeedWriteProtect(k, s) ? spteWrprotForClearDirty(m, s) : spteClearDirty(s);
    }
    if (changed) flush = true;
  }
  return flush;
}

// models __rmap_write_protect(kvm, rmap_head, pt_protect = false) (mmu.c): W off, MMU-writable kept
export function rmapWriteProtect(head: readonly Spte[]): boolean {
  let flush = false;
  for (const s of head) {
    if (s.clearLowBits(WRITABLE)) flush = true;
  }
  return flush;
}

// models __rmap_set_dirty() + spte_set_dirty() (mmu.c): D on for A/D kinds; W is not restored
export function rmapSetDirty(m: KvmMmuState, head: readonly Spte[]): boolean {
  let flush = false;
  for (const s of head) {
    if (!leafAdEnabled(m.cfg.kinds, s) || (s.lo & DIRTY) !== 0) continue;
    s.setLowBits(DIRTY);
    flush = true;
  }
  return flush;
}

function forSlot(m: KvmMmuState, slot: Memslot, fn: (head: readonly Spte[]) => boolean): void {
  for (const head of m.rmap.range(slot.baseGfnNumber, slot.npages)) fn(head);
}

// models kvm_arch_commit_memory_region() → kvm_mmu_slot_apply_flags() (x86.c, v5.4)
export function slotApplyFlags(m: KvmMmuState, slot: Memslot, _oldFlags: number, change: MemslotChange): void {
  if (change === 'delete' || change === 'move') {
    m.zapSlot(slot); // kvm_arch_flush_shadow_memslot()
    if (change === 'delete') return;
  }
  if (slot.readonly) {
    forSlot(m, slot, rmapWriteProtect); // kvm_mmu_slot_remove_write_access()
    return;
  }
  if (slot.logsDirty) {
    if (m.cfg.pml) {
      // vmx_slot_enable_log_dirty(): kvm_mmu_slot_leaf_clear_dirty() (+ large pages: none here)
      forSlot(m, slot, (h) => rmapClearDirty(m, h));
    } else {
      forSlot(m, slot, rmapWriteProtect); // kvm_mmu_slot_remove_write_access()
    }
  } else if (m.cfg.pml) {
    forSlot(m, slot, (h) => rmapSetDirty(m, h)); // vmx_slot_disable_log_dirty(): kvm_mmu_slot_set_dirty()
  }
}

// models kvm_arch_mmu_enable_log_dirty_pt_masked() (x86.c): PML → kvm_mmu_clear_dirty_pt_masked(),
// else kvm_mmu_write_protect_pt_masked(); for pages firstPage + bit of `mask` (32 bits)
export function enableLogDirtyPtMasked(m: KvmMmuState, slot: Memslot, firstPage: number, mask: number): void {
  let bits = mask >>> 0;
  while (bits !== 0) {
    const bit = 31 - Math.clz32(bits & -bits);
    bits &= bits - 1;
    const head = m.rmap.get(slot.baseGfnNumber + firstPage + bit);
    if (head.length === 0) continue;
    if (m.cfg.pml) rmapClearDirty(m, head);
    else rmapWriteProtect(head);
  }
}
