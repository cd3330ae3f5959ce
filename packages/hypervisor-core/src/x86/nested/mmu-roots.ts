/**
 * The MMU roots as nested VMX needs them (arch/x86/kvm/mmu.c of v5.4): the current root, the
 * previous-roots cache (fast CR3/EPTP switch), and the two ways a new CR3 or EPTP takes effect —
 * a cached root plus KVM_REQ_LOAD_CR3, or a freed root that kvm_mmu_reload() allocates at the
 * next entry. Both end in kvm_mmu_load_cr3(), the only caller of vmx_set_cr3(). What a root
 * points at (TDP or shadow-EPT tables) is the MMU plugin's business, behind `mmuAllocRoot`.
 */
import { kvmReadCr3 } from './reg-cache.js';
import { vmxSetCr3 } from './set-cr3.js';
import type { KvmMmuContext, NestedVcpuState } from './shapes.js';

/** models cached_root_available() (mmu.c): rotate the current root through prev_roots. */
function cachedRootAvailable(mmu: KvmMmuContext, key: bigint): boolean {
  let root = mmu.root;
  let i = 0;
  for (; i < mmu.prevRoots.length; i++) {
    const prev = mmu.prevRoots[i] ?? null;
    mmu.prevRoots[i] = root;
    root = prev;
    if (root !== null && root.key === key) break;
  }
  mmu.root = root;
  return i < mmu.prevRoots.length;
}

/**
 * models __kvm_mmu_new_cr3() (mmu.c) with skip_tlb_flush = false: fast_cr3_switch() to a cached
 * root (KVM_REQ_LOAD_CR3, and KVM_REQ_MMU_SYNC for the shadow pages), else free the current root.
 */
export function kvmMmuNewCr3(nv: NestedVcpuState, mmu: KvmMmuContext, key: bigint): void {
  if (cachedRootAvailable(mmu, key)) {
    nv.requests.add('LOAD_CR3');
    nv.requests.add('MMU_SYNC');
    nv.requests.add('TLB_FLUSH');
  } else {
    mmu.root = null; // kvm_mmu_free_roots(KVM_MMU_ROOT_CURRENT)
  }
}

/** models kvm_mmu_free_roots(mmu, KVM_MMU_ROOTS_ALL) (mmu.c). */
export function kvmMmuFreeAllRoots(mmu: KvmMmuContext): void {
  mmu.root = null;
  mmu.prevRoots.fill(null);
}

/** models kvm_mmu_load_cr3() (mmu.h): the PCID is computed from kvm_read_cr3() first. */
export function kvmMmuLoadCr3(nv: NestedVcpuState): void {
  const root = nv.mmu.root;
  if (root === null) return;
  kvmReadCr3(nv); // kvm_get_active_pcid(); CR4.PCIDE is off here so the PCID is 0, but the read happens
  vmxSetCr3(nv, root.hpa);
}

/** models kvm_mmu_load() (mmu.c): allocate a root for the current CR3/EPTP, sync, load it. */
function kvmMmuLoad(nv: NestedVcpuState, key: bigint): void {
  const mmu = nv.mmu;
  mmu.root = { key, hpa: nv.engine.ops.mmuAllocRoot(nv, mmu.name, key) };
  nv.engine.ops.mmuSyncRoots?.(nv);
  kvmMmuLoadCr3(nv);
}

/**
 * models kvm_mmu_reload() (mmu.h). `key` says what a new root would be built for; it is asked
 * only when there is no root, as mmu->get_cr3() is only called from mmu_alloc_roots().
 */
export function kvmMmuReload(nv: NestedVcpuState, key: (nv: NestedVcpuState) => bigint): void {
  if (nv.mmu.root !== null) return;
  kvmMmuLoad(nv, key(nv));
}

/** models kvm_mmu_unload() for KVM_REQ_MMU_RELOAD (mmu.c). */
export function kvmMmuUnload(nv: NestedVcpuState): void {
  kvmMmuFreeAllRoots(nv.rootMmu);
  kvmMmuFreeAllRoots(nv.guestMmu);
}
