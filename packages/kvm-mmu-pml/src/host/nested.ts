/**
 * The minimal nested VMX the PML bug needs (arch/x86/kvm/vmx/nested.c, v5.3/v5.4): L1's
 * VMWRITE/VMREAD into its vmcs12, VMLAUNCH/VMRESUME (nested_vmx_run) building vmcs02 — which
 * inherits L0's ENABLE_PML — and nested VM exits back to L1. One vmcs12 per vCPU (no VMPTRLD);
 * no CR3, interrupt or activity-state handling: that is nvmx-cr3's model.
 */
import {
  CPU_BASED_ACTIVATE_SECONDARY_CONTROLS,
  CPU_BASED_VM_EXEC_CONTROL,
  EPT_POINTER,
  eptpAdEnabled,
  EXIT_QUALIFICATION,
  GUEST_PHYSICAL_ADDRESS,
  GUEST_PML_INDEX,
  PML_ADDRESS,
  SECONDARY_EXEC_ENABLE_EPT,
  SECONDARY_EXEC_ENABLE_PML,
  SECONDARY_VM_EXEC_CONTROL,
  VM_EXIT_REASON,
  VMX_EPTP_MT_WB,
  VMX_EPTP_PWL_4,
  VMXERR_ENTRY_INVALID_CONTROL_FIELD,
  VMXERR_VMLAUNCH_NONCLEAR_VMCS,
  VMXERR_VMRESUME_NONLAUNCHED_VMCS,
} from '@kvmlab/hypervisor-core';
import type { KvmMmuPml } from './kvm-mmu.js';
import { PML_INDEX_RESET } from './pml.js';
import { constructEptp } from './vmcs01.js';
import type { VcpuVmx } from './vcpu-vmx.js';

/** The outcome of a VMX instruction as L1 sees it in RFLAGS (SDM §30.2). */
export type VmxStatus = { readonly ok: true } | { readonly ok: false; readonly error?: number };

export interface NestedExitInfo {
  readonly gpa?: bigint;
  readonly qualification?: bigint;
}

function vmcs12Secondary(v: VcpuVmx): bigint {
  const exec = v.vmcs12.peek(CPU_BASED_VM_EXEC_CONTROL);
  return (exec & BigInt(CPU_BASED_ACTIVATE_SECONDARY_CONTROLS)) !== 0n ? v.vmcs12.peek(SECONDARY_VM_EXEC_CONTROL) : 0n;
}

// models nested_vmx_check_eptp() (nested.c): WB or UC, 4 levels, A/D only if offered to L1
function eptp12Valid(m: KvmMmuPml, eptp: bigint): boolean {
  const mt = eptp & 7n;
  if (mt !== VMX_EPTP_MT_WB && mt !== 0n) return false;
  if ((eptp & (7n << 3n)) !== VMX_EPTP_PWL_4) return false;
  if (eptpAdEnabled(eptp) && !m.cfg.eptAd) return false;
  return (eptp & 0xf80n) === 0n; // bits 11:7 reserved
}

// models nested_vmx_run() → nested_vmx_enter_non_root_mode() → prepare_vmcs02*() (nested.c)
export function nestedVmxRun(m: KvmMmuPml, v: VcpuVmx, launch: boolean): VmxStatus {
  if (v.vcpu.x86.guestMode) return { ok: false };
  if (launch && v.vmcs12.launched) return { ok: false, error: VMXERR_VMLAUNCH_NONCLEAR_VMCS };
  if (!launch && !v.vmcs12.launched) return { ok: false, error: VMXERR_VMRESUME_NONLAUNCHED_VMCS };
  const sec12 = vmcs12Secondary(v);
  const nestedEpt = (sec12 & BigInt(SECONDARY_EXEC_ENABLE_EPT)) !== 0n;
  const eptp12 = v.vmcs12.peek(EPT_POINTER);
  if (nestedEpt && !eptp12Valid(m, eptp12)) return { ok: false, error: VMXERR_ENTRY_INVALID_CONTROL_FIELD };

  const vmcs02 = v.vmcs02;
  v.current = vmcs02; // vmx_switch_vmcs()
  // prepare_vmcs02_early(): L0's secondary controls — ENABLE_PML included — plus L1's,
  // whose own ENABLE_PML is emulated and never reaches the hardware.
  vmcs02.vmwrite(CPU_BASED_VM_EXEC_CONTROL, BigInt(CPU_BASED_ACTIVATE_SECONDARY_CONTROLS));
  vmcs02.vmwrite(SECONDARY_VM_EXEC_CONTROL, v.secondaryExecControl | (sec12 & ~BigInt(SECONDARY_EXEC_ENABLE_PML)));
  if (!v.vmcs02Ready) {
    // prepare_vmcs02_constant_state(): the PML page and index are constant in vmcs02.
    if (m.cfg.pml) {
      vmcs02.vmwrite(PML_ADDRESS, v.pmlHpa);
      vmcs02.vmwrite(GUEST_PML_INDEX, BigInt(PML_INDEX_RESET));
    }
    v.vmcs02Ready = true;
  }
  v.vcpu.x86.guestMode = true; // enter_guest_mode()
  v.nestedEpt = nestedEpt;
  // nested_ept_init_mmu_context(): guest_mmu shadows EPT12; else L2 runs on L1's TDP root.
  const root = nestedEpt ? m.shadowTable(eptp12).root : m.tdp.root;
  vmcs02.vmwrite(EPT_POINTER, constructEptp(m, v, root)); // vmx_set_cr3()
  v.loadCpu((hpa) => m.tableAt(hpa));
  v.vmcs12.launched = true;
  return { ok: true };
}

// models nested_vmx_vmexit() (nested.c): exit information into vmcs12, back to vmcs01
export function nestedVmxVmexit(m: KvmMmuPml, v: VcpuVmx, reason: number, info: NestedExitInfo = {}): void {
  if (!v.vcpu.x86.guestMode) return;
  v.vcpu.x86.guestMode = false; // leave_guest_mode()
  v.nestedEpt = false; // nested_ept_uninit_mmu_context()
  // prepare_vmcs12(): KVM stores into the vmcs12 struct, not VMWRITEs.
  v.vmcs12.cpuWrite(VM_EXIT_REASON, BigInt(reason));
  v.vmcs12.cpuWrite(EXIT_QUALIFICATION, info.qualification ?? 0n);
  v.vmcs12.cpuWrite(GUEST_PHYSICAL_ADDRESS, info.gpa ?? 0n);
  v.current = v.vmcs01; // vmx_switch_vmcs()
  v.loadCpu((hpa) => m.tableAt(hpa));
}
