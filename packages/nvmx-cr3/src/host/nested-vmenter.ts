/**
 * Nested VM-Enter: L1 executed VMLAUNCH/VMRESUME and L0 emulates it (spec §2). The GUEST_CR3
 * of vmcs02 is written here only by the RFC (in nested_vmx_load_cr3) and by the merged fix
 * (in prepare_vmcs02); Linux 5.3 leaves it to vmx_set_cr3() at the next real entry, which a
 * HLT-squashed entry never reaches.
 */
import {
  CPU_BASED_INTR_WINDOW_EXITING, CPU_BASED_NMI_WINDOW_EXITING, CPU_BASED_VM_EXEC_CONTROL, EPT_POINTER,
  EXIT_REASON_INVALID_STATE, GUEST_ACTIVITY_ACTIVE, GUEST_ACTIVITY_HLT, GUEST_ACTIVITY_STATE, GUEST_CR3, GUEST_RFLAGS,
  GUEST_RIP, HOST_CR3, INTR_INFO_VALID_MASK, PIN_BASED_VM_EXEC_CONTROL, PIN_BASED_VMX_PREEMPTION_TIMER,
  SECONDARY_EXEC_ENABLE_EPT, SECONDARY_EXEC_ENABLE_PML, SECONDARY_VM_EXEC_CONTROL, VM_ENTRY_INTR_INFO_FIELD,
  VMXERR_ENTRY_INVALID_CONTROL_FIELD, VMXERR_ENTRY_INVALID_HOST_STATE_FIELD, VM_EXIT_REASON, EXIT_QUALIFICATION,
} from '@kvmlab/hypervisor-core';
import { ENTRY_FAIL_DEFAULT, KVM_MP_STATE_HALTED, MAXPHYADDR, VMX_EXIT_REASONS_FAILED_VMENTRY, X86_EFLAGS_IF } from '../constants.js';
import { NESTED_ALLOWED_CPU_BASED, NESTED_ALLOWED_PIN_BASED, NESTED_ALLOWED_SECONDARY } from './vmx-caps.js';
import { kvmMmuNewCr3 } from './mmu-roots.js';
import type { NestedVcpu } from './nested-state.js';
import { kvmReadCr3, markCr3Available } from './reg-cache.js';
import type { Vmcs12 } from './vmcs12.js';
import { loadVmcs12HostState } from './nested-vmexit.js';
import { vmcs12TimerValue, vmxStartPreemptionTimer } from './wake-sources.js';

/** Outcome of the VM-entry instruction as L1 sees it (VMfail codes are register values). */
export type NestedRunResult =
  | { readonly kind: 'entered' }
  | { readonly kind: 'squashed' }
  | { readonly kind: 'failed-entry' }
  | { readonly kind: 'vmfail-valid'; readonly error: number };

const maxPhys = (1n << BigInt(MAXPHYADDR)) - 1n;

/** models nested_cr3_valid() (arch/x86/kvm/vmx/nested.c): no bits above MAXPHYADDR. */
export function nestedCr3Valid(cr3: bigint): boolean {
  return (cr3 & ~maxPhys) === 0n;
}

/** models nested_vmx_load_cr3() (arch/x86/kvm/vmx/nested.c). False = an entry-failure exit. */
export function nestedVmxLoadCr3(nv: NestedVcpu, cr3: bigint, nestedEpt: boolean): boolean {
  if (cr3 !== kvmReadCr3(nv)) {
    if (!nestedCr3Valid(cr3)) return false;
    // PDPTR loads for PAE paging are not modelled: L1 and L2 run in long mode.
  }
  if (nv.cfg.variant === 'rfc-muen') {
    // hunk of the RFC "KVM: VMX: Always sync CR3 to VMCS in nested_vmx_load_cr3" (nested.c)
    nv.loaded.vmwrite(GUEST_CR3, cr3);
  }
  if (!nestedEpt) kvmMmuNewCr3(nv, nv.mmu, cr3);
  nv.cr3 = cr3;
  markCr3Available(nv);
  return true;
}

/** models prepare_vmcs02_early() (arch/x86/kvm/vmx/nested.c): merge L0's controls with vmcs12's. */
function prepareVmcs02Early(nv: NestedVcpu, v12: Vmcs12): void {
  const v01 = nv.vmcs01;
  const v02 = nv.vmcs02;
  // L1's preemption timer is emulated with an hrtimer, so vmcs02 never uses it.
  v02.vmwrite(PIN_BASED_VM_EXEC_CONTROL, v01.peek(PIN_BASED_VM_EXEC_CONTROL) | (v12.get(PIN_BASED_VM_EXEC_CONTROL) & ~BigInt(PIN_BASED_VMX_PREEMPTION_TIMER)));
  // L0's own controls (HLT exiting among them) stay; the window-exiting bits come from vmcs12 only.
  const l0Exec = v01.peek(CPU_BASED_VM_EXEC_CONTROL) & ~BigInt(CPU_BASED_INTR_WINDOW_EXITING | CPU_BASED_NMI_WINDOW_EXITING);
  v02.vmwrite(CPU_BASED_VM_EXEC_CONTROL, l0Exec | v12.get(CPU_BASED_VM_EXEC_CONTROL));
  v02.vmwrite(SECONDARY_VM_EXEC_CONTROL, v01.peek(SECONDARY_VM_EXEC_CONTROL) | (v12.get(SECONDARY_VM_EXEC_CONTROL) & ~BigInt(SECONDARY_EXEC_ENABLE_PML)));
}

/** models nested_cpu_has_ept() (arch/x86/kvm/vmx/nested.h). */
export function nestedCpuHasEpt(v12: Vmcs12): boolean {
  return v12.has(SECONDARY_VM_EXEC_CONTROL, SECONDARY_EXEC_ENABLE_EPT);
}

/** models prepare_vmcs02() (arch/x86/kvm/vmx/nested.c), the parts that matter for CR3. */
function prepareVmcs02(nv: NestedVcpu, v12: Vmcs12): boolean {
  const v02 = nv.vmcs02;
  const nestedEpt = nv.cfg.enableEpt && nestedCpuHasEpt(v12);
  if (nestedEpt) {
    // nested_ept_init_mmu_context(): the shadow-EPT MMU for L2, switched to EPTP12.
    nv.mmu = nv.guestMmu;
    kvmMmuNewCr3(nv, nv.guestMmu, v12.get(EPT_POINTER));
  }
  v02.vmwrite(GUEST_RFLAGS, v12.get(GUEST_RFLAGS));
  if (nv.nestedRunPending) v02.vmwrite(VM_ENTRY_INTR_INFO_FIELD, v12.get(VM_ENTRY_INTR_INFO_FIELD));
  if (!nestedVmxLoadCr3(nv, v12.get(GUEST_CR3), nestedEpt)) return false;
  if (nv.cfg.variant === 'merged' && nv.cfg.enableEpt) {
    // hunk of "KVM: nVMX: Always write vmcs02.GUEST_CR3 during nested VM-Enter" (nested.c)
    v02.vmwrite(GUEST_CR3, v12.get(GUEST_CR3));
  }
  v02.vmwrite(GUEST_RIP, v12.get(GUEST_RIP)); // kvm_rip_write(), flushed to the VMCS before entry
  return true;
}

/** models nested_vmx_check_vmentry_prereqs()/host-state checks (arch/x86/kvm/vmx/nested.c), in part. */
function checkControlsAndHost(v12: Vmcs12): number {
  const pin = v12.get(PIN_BASED_VM_EXEC_CONTROL);
  const exec = v12.get(CPU_BASED_VM_EXEC_CONTROL);
  const sec = v12.get(SECONDARY_VM_EXEC_CONTROL);
  if ((pin & ~NESTED_ALLOWED_PIN_BASED) !== 0n || (exec & ~NESTED_ALLOWED_CPU_BASED) !== 0n || (sec & ~NESTED_ALLOWED_SECONDARY) !== 0n) {
    return VMXERR_ENTRY_INVALID_CONTROL_FIELD;
  }
  if (!nestedCr3Valid(v12.get(HOST_CR3))) return VMXERR_ENTRY_INVALID_HOST_STATE_FIELD;
  return 0;
}

/** A VM-entry failure reported to L1 as an exit (vmentry_fail_vmexit in nested.c). */
function entryFailure(nv: NestedVcpu, v12: Vmcs12, reason: number): void {
  nv.vcpu.x86.guestMode = false;
  nv.loaded = nv.vmcs01;
  loadVmcs12HostState(nv, v12);
  v12.set(VM_EXIT_REASON, BigInt((reason | VMX_EXIT_REASONS_FAILED_VMENTRY) >>> 0));
  v12.set(EXIT_QUALIFICATION, BigInt(ENTRY_FAIL_DEFAULT));
}

/** models nested_vmx_enter_non_root_mode(vcpu, from_vmentry = true) (arch/x86/kvm/vmx/nested.c). */
function enterNonRootMode(nv: NestedVcpu, v12: Vmcs12): boolean {
  if (!nv.cfg.enableEpt) nv.vmcs01.vmwrite(GUEST_CR3, nv.cr3);
  nv.loaded = nv.vmcs02; // vmx_switch_vmcs(): the register cache is *not* refreshed
  prepareVmcs02Early(nv, v12);
  const activity = Number(v12.get(GUEST_ACTIVITY_STATE));
  if (activity !== GUEST_ACTIVITY_ACTIVE && activity !== GUEST_ACTIVITY_HLT) {
    nv.loaded = nv.vmcs01;
    loadVmcs12HostState(nv, v12);
    v12.set(VM_EXIT_REASON, BigInt((EXIT_REASON_INVALID_STATE | VMX_EXIT_REASONS_FAILED_VMENTRY) >>> 0));
    v12.set(EXIT_QUALIFICATION, BigInt(ENTRY_FAIL_DEFAULT));
    return false;
  }
  nv.vcpu.x86.guestMode = true; // enter_guest_mode()
  if (!prepareVmcs02(nv, v12)) {
    entryFailure(nv, v12, EXIT_REASON_INVALID_STATE);
    return false;
  }
  nv.preemptionTimerExpired = false;
  if (v12.has(PIN_BASED_VM_EXEC_CONTROL, PIN_BASED_VMX_PREEMPTION_TIMER)) vmxStartPreemptionTimer(nv, vmcs12TimerValue(nv));
  return true;
}

/** The HLT squash condition of nested_vmx_run() (arch/x86/kvm/vmx/nested.c). */
export function shouldSquashHlt(v12: Vmcs12): boolean {
  return (
    Number(v12.get(GUEST_ACTIVITY_STATE)) === GUEST_ACTIVITY_HLT &&
    !v12.has(VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID_MASK) &&
    !v12.has(CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_NMI_WINDOW_EXITING) &&
    !(v12.has(CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_INTR_WINDOW_EXITING) && (v12.get(GUEST_RFLAGS) & X86_EFLAGS_IF) !== 0n)
  );
}

/**
 * models nested_vmx_run() (arch/x86/kvm/vmx/nested.c) after the launch-state check (done by
 * the VMLAUNCH/VMRESUME handler): checks, nested_run_pending, entry, then the HLT squash.
 */
export function nestedVmxRun(nv: NestedVcpu, v12: Vmcs12): NestedRunResult {
  const err = checkControlsAndHost(v12);
  if (err !== 0) return { kind: 'vmfail-valid', error: err };
  nv.nestedRunPending = true;
  const ok = enterNonRootMode(nv, v12);
  nv.nestedRunPending = ok;
  if (!ok) return { kind: 'failed-entry' };
  if (shouldSquashHlt(v12)) {
    nv.nestedRunPending = false;
    nv.mpState = KVM_MP_STATE_HALTED; // kvm_vcpu_halt() with an in-kernel LAPIC
    return { kind: 'squashed' };
  }
  return { kind: 'entered' };
}
