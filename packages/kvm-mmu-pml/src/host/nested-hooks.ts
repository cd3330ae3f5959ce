/**
 * What this package fills in hypervisor-core's nested-VMX engine (its NvmxOps): the MMU that
 * runs L1 and L2 — roots on L0's TDP table or on the shadow of EPTP12 — the processor loading
 * EPT_POINTER at VM entry, and the PML page and its flush. INVEPT keeps the engine's 5.3/5.4
 * behaviour (nothing); L1's changes to EPT12 reach the shadow through write tracking.
 */
import type { NestedVcpuState, NvmxOps } from '@kvmlab/hypervisor-core';
import { kvmMmuOf } from './kvm-mmu.js';
import { vmxFlushPmlBuffer } from './pml.js';

const vmx = (nv: NestedVcpuState) => kvmMmuOf(nv.vcpu.vm).vcpuVmxFor(nv);

export const NESTED_MMU_HOOKS: Partial<NvmxOps> = {
  // mmu_alloc_roots(): L1's TDP root is one table; guest_mmu has a root per EPTP12 (kvm_mmu_get_page finds it again)
  mmuAllocRoot: (nv, mmu, key) => {
    const m = kvmMmuOf(nv.vcpu.vm);
    return mmu === 'guest_mmu' ? m.shadowTable(key).root : m.tdp.root;
  },
  nestedEptInit: (nv) => {
    vmx(nv).nestedEpt = true;
  },
  nestedEptUninit: (nv) => {
    vmx(nv).nestedEpt = false;
  },
  hardwareEntry: (nv) => {
    const m = kvmMmuOf(nv.vcpu.vm);
    vmx(nv).loadCpu((hpa) => m.tableAt(hpa));
  },
  pmlAddress: (nv) => vmx(nv).pmlHpa,
  flushPml: (nv) => vmxFlushPmlBuffer(kvmMmuOf(nv.vcpu.vm), vmx(nv)),
};
