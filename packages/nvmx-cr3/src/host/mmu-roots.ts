/**
 * The MMU roots as far as CR3 handling needs them: the current root, the previous-roots cache
 * (fast CR3 switch), and the two ways a new CR3/EPTP takes effect — a cached root plus
 * KVM_REQ_LOAD_CR3, or a freed root that kvm_mmu_reload() allocates at the next entry. Both
 * end in kvm_mmu_load_cr3(), the only caller of vmx_set_cr3().
 */
import { KVM_MMU_NUM_PREV_ROOTS } from '../constants.js';
import type { NestedVcpu } from './nested-state.js';
import { vmxSetCr3 } from './vmx-set-cr3.js';
import { kvmReadCr3 } from './reg-cache.js';

export interface MmuRoot {
  readonly cr3: bigint;
  readonly hpa: bigint;
}

export interface KvmMmu {
  readonly name: 'root_mmu' | 'guest_mmu';
  /** root_hpa (null = INVALID_PAGE) and the CR3 (or EPTP) it was built for. */
  root: MmuRoot | null;
  readonly prevRoots: (MmuRoot | null)[];
  allocs: number;
}

export function newMmu(name: KvmMmu['name']): KvmMmu {
  return { name, root: null, prevRoots: Array.from({ length: KVM_MMU_NUM_PREV_ROOTS }, () => null), allocs: 0 };
}

// Shadow/TDP roots are host pages; the model numbers them so a !EPT GUEST_CR3 is recognisable.
const ROOT_BASE: Record<KvmMmu['name'], bigint> = { root_mmu: 0x7e00_0000n, guest_mmu: 0x7f00_0000n };

/** models cached_root_available() (arch/x86/kvm/mmu.c): rotate the current root through prev_roots. */
function cachedRootAvailable(mmu: KvmMmu, newCr3: bigint): boolean {
  let root = mmu.root;
  let i = 0;
  for (; i < mmu.prevRoots.length; i++) {
    const prev = mmu.prevRoots[i] ?? null;
    mmu.prevRoots[i] = root;
    root = prev;
    if (root !== null && root.cr3 === newCr3) break;
  }
  mmu.root = root;
  return i < mmu.prevRoots.length;
}

/** models __kvm_mmu_new_cr3() (arch/x86/kvm/mmu.c): fast switch to a cached root, else free it. */
export function kvmMmuNewCr3(nv: NestedVcpu, mmu: KvmMmu, newCr3: bigint): void {
  if (cachedRootAvailable(mmu, newCr3)) {
    nv.requests.add('LOAD_CR3');
  } else {
    mmu.root = null; // kvm_mmu_free_roots(KVM_MMU_ROOT_CURRENT)
  }
}

/** models kvm_mmu_load_cr3() (arch/x86/kvm/mmu.h): the PCID is computed from kvm_read_cr3() first. */
export function kvmMmuLoadCr3(nv: NestedVcpu): void {
  const root = nv.mmu.root;
  if (root === null) return;
  kvmReadCr3(nv); // kvm_get_active_pcid(); PCIDE is off here so the PCID is 0, but the read happens
  vmxSetCr3(nv, root.hpa);
}

/** models kvm_mmu_load() (arch/x86/kvm/mmu.c): allocate a root for the current CR3/EPTP, then load it. */
export function kvmMmuLoad(nv: NestedVcpu, key: bigint): void {
  const mmu = nv.mmu;
  mmu.root = { cr3: key, hpa: ROOT_BASE[mmu.name] + BigInt(mmu.allocs++ % 4096) * 0x1000n };
  kvmMmuLoadCr3(nv);
}

/** models kvm_mmu_reload() (arch/x86/kvm/mmu.h). `key` is what the root would be built for. */
export function kvmMmuReload(nv: NestedVcpu, key: bigint): void {
  if (nv.mmu.root !== null) return;
  kvmMmuLoad(nv, key);
}

/** models kvm_mmu_unload() for KVM_REQ_MMU_RELOAD (arch/x86/kvm/mmu.c). */
export function kvmMmuUnload(nv: NestedVcpu): void {
  nv.rootMmu.root = null;
  nv.guestMmu.root = null;
}
