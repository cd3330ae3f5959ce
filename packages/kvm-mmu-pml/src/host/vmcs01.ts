/**
 * L0's VMCS setup for L1 and the EPTP it builds (arch/x86/kvm/vmx/vmx.c).
 */
import {
  CPU_BASED_ACTIVATE_SECONDARY_CONTROLS,
  CPU_BASED_VM_EXEC_CONTROL,
  EPT_POINTER,
  eptpAdEnabled,
  GUEST_PML_INDEX,
  makeEptp,
  PML_ADDRESS,
  PML_ENTITY_NUM,
  SECONDARY_EXEC_ENABLE_EPT,
  SECONDARY_EXEC_ENABLE_PML,
  SECONDARY_VM_EXEC_CONTROL,
} from '@kvmlab/hypervisor-core';
import type { KvmMmuPml } from './kvm-mmu.js';
import type { VcpuVmx } from './vcpu-vmx.js';

// models construct_eptp() (vmx.c): write-back, 4-level walk, A/D if ept_ad and (L1 runs, or EPTP12 bit 6)
export function constructEptp(m: KvmMmuPml, v: VcpuVmx, rootHpa: bigint): bigint {
  const ad = m.cfg.eptAd && (!v.vcpu.x86.guestMode || eptpAdEnabled(v.vmcs12.peek(EPT_POINTER)));
  return makeEptp(rootHpa, ad);
}

// models init_vmcs() and vmx_compute_secondary_exec_control() (vmx.c): EPT on, PML if enable_pml
export function setupVmcs01(m: KvmMmuPml, v: VcpuVmx): void {
  const vmcs = v.vmcs01;
  v.secondaryExecControl = BigInt(SECONDARY_EXEC_ENABLE_EPT | (m.cfg.pml ? SECONDARY_EXEC_ENABLE_PML : 0));
  vmcs.vmwrite(CPU_BASED_VM_EXEC_CONTROL, BigInt(CPU_BASED_ACTIVATE_SECONDARY_CONTROLS));
  vmcs.vmwrite(SECONDARY_VM_EXEC_CONTROL, v.secondaryExecControl);
  if (m.cfg.pml) {
    vmcs.vmwrite(PML_ADDRESS, v.pmlHpa);
    vmcs.vmwrite(GUEST_PML_INDEX, BigInt(PML_ENTITY_NUM - 1));
  }
  // vmx_set_cr3(): EPT_POINTER for root_mmu
  vmcs.vmwrite(EPT_POINTER, constructEptp(m, v, m.tdp.root));
  v.loadCpu((hpa) => m.tableAt(hpa));
}
