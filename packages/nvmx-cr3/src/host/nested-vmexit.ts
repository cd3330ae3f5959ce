/**
 * Nested VM-Exit (spec §3): sync_vmcs02_to_vmcs12 reads GUEST_CR3 **from vmcs02** when EPT is
 * on — the read that hands L1 a stale value when vmcs02 was last written for another L2 —
 * then prepare_vmcs12, the switch back to vmcs01 and L1's host state.
 */
import {
  CPU_BASED_CR3_LOAD_EXITING, CPU_BASED_HLT_EXITING, CPU_BASED_INTR_WINDOW_EXITING, CPU_BASED_NMI_WINDOW_EXITING,
  CPU_BASED_VM_EXEC_CONTROL, EXIT_QUALIFICATION, EXIT_REASON_CR_ACCESS, EXIT_REASON_EXTERNAL_INTERRUPT, EXIT_REASON_HLT,
  EXIT_REASON_INTERRUPT_WINDOW, EXIT_REASON_NMI_WINDOW, EXIT_REASON_PREEMPTION_TIMER, EXIT_REASON_TRIPLE_FAULT,
  EXIT_REASON_VMCALL, GUEST_ACTIVITY_ACTIVE, GUEST_ACTIVITY_HLT, GUEST_ACTIVITY_STATE, GUEST_CR3, GUEST_RFLAGS,
  GUEST_RIP, HOST_CR3, INTR_INFO_VALID_MASK, INTR_TYPE_EXT_INTR, PIN_BASED_EXT_INTR_MASK, PIN_BASED_VM_EXEC_CONTROL,
  PIN_BASED_VMX_PREEMPTION_TIMER, VM_ENTRY_INTR_INFO_FIELD, VM_EXIT_CONTROLS, VM_EXIT_INSTRUCTION_LEN,
  VM_EXIT_INTR_INFO, VM_EXIT_REASON,
} from '@kvmlab/hypervisor-core';
import { KVM_MP_STATE_HALTED, KVM_MP_STATE_RUNNABLE, VM_EXIT_ACK_INTR_ON_EXIT } from '../constants.js';
import type { NestedVcpu } from './nested-state.js';
import { nestedVmxLoadCr3 } from './nested-vmenter.js';
import type { Vmcs12 } from './vmcs12.js';
import { cancelPreemptionTimer, hasInterrupt } from './wake-sources.js';
import { countMark, finishExitCount } from './op-counts.js';

/** models load_vmcs12_host_state() (arch/x86/kvm/vmx/nested.c), the CR3 part. */
export function loadVmcs12HostState(nv: NestedVcpu, v12: Vmcs12): void {
  nv.mmu = nv.rootMmu; // nested_ept_uninit_mmu_context()
  // A bad HOST_CR3 here would be a VMX abort (nested_vmx_abort); VM entry already checked it.
  nestedVmxLoadCr3(nv, v12.get(HOST_CR3), false);
}

/** models sync_vmcs02_to_vmcs12() (arch/x86/kvm/vmx/nested.c), the fields the story needs. */
function syncVmcs02ToVmcs12(nv: NestedVcpu, v12: Vmcs12): void {
  const v02 = nv.loaded;
  v12.set(GUEST_RIP, v02.vmread(GUEST_RIP));
  v12.set(GUEST_RFLAGS, v02.vmread(GUEST_RFLAGS));
  v12.set(GUEST_ACTIVITY_STATE, BigInt(nv.mpState === KVM_MP_STATE_HALTED ? GUEST_ACTIVITY_HLT : GUEST_ACTIVITY_ACTIVE));
  if (nv.cfg.enableEpt) v12.set(GUEST_CR3, v02.vmread(GUEST_CR3));
}

/** models nested_vmx_vmexit() (arch/x86/kvm/vmx/nested.c). */
export function nestedVmxVmexit(nv: NestedVcpu, reason: number, intrInfo: number, qualification: bigint): void {
  const v12 = nv.vmcs12;
  if (v12 === undefined || !nv.guestMode) return;
  nv.exitMark ??= countMark(nv);
  nv.vcpu.x86.guestMode = false; // leave_guest_mode()
  cancelPreemptionTimer(nv);
  syncVmcs02ToVmcs12(nv, v12);
  // prepare_vmcs12()
  v12.set(VM_EXIT_REASON, BigInt(reason));
  v12.set(EXIT_QUALIFICATION, qualification);
  v12.set(VM_EXIT_INTR_INFO, BigInt(intrInfo >>> 0));
  v12.set(VM_EXIT_INSTRUCTION_LEN, nv.loaded.vmread(VM_EXIT_INSTRUCTION_LEN));
  v12.launched = true;
  v12.set(VM_ENTRY_INTR_INFO_FIELD, v12.get(VM_ENTRY_INTR_INFO_FIELD) & ~BigInt(INTR_INFO_VALID_MASK));
  nv.loaded = nv.vmcs01; // vmx_switch_vmcs(vmcs01)
  nv.mpState = KVM_MP_STATE_RUNNABLE;
  if (reason === EXIT_REASON_EXTERNAL_INTERRUPT && v12.has(VM_EXIT_CONTROLS, VM_EXIT_ACK_INTR_ON_EXIT)) {
    const vector = nv.pendingIrqs.shift() ?? 0; // kvm_cpu_get_interrupt(): acknowledged on exit
    v12.set(VM_EXIT_INTR_INFO, BigInt((vector | INTR_TYPE_EXT_INTR | INTR_INFO_VALID_MASK) >>> 0));
  }
  loadVmcs12HostState(nv, v12);
  nv.stats.nestedExits[reason] = (nv.stats.nestedExits[reason] ?? 0) + 1;
  nv.lastExit = { vmptr: v12.ptr, reason, guestCr3: v12.get(GUEST_CR3) };
}

/** 'busy' = -EBUSY: an event is due but nested_run_pending blocks the exit for now. */
export type NestedEventsResult = 'none' | 'exited' | 'busy';

/** models vmx_check_nested_events() (arch/x86/kvm/vmx/nested.c): timer (52) before external interrupt (1). */
export function checkNestedEvents(nv: NestedVcpu): NestedEventsResult {
  const v12 = nv.vmcs12;
  if (!nv.guestMode || v12 === undefined) return 'none';
  const block = nv.nestedRunPending;
  if (v12.has(PIN_BASED_VM_EXEC_CONTROL, PIN_BASED_VMX_PREEMPTION_TIMER) && nv.preemptionTimerExpired) {
    if (block) return 'busy';
    nestedVmxVmexit(nv, EXIT_REASON_PREEMPTION_TIMER, 0, 0n);
    return 'exited';
  }
  if (hasInterrupt(nv) && v12.has(PIN_BASED_VM_EXEC_CONTROL, PIN_BASED_EXT_INTR_MASK)) {
    if (block) return 'busy';
    nestedVmxVmexit(nv, EXIT_REASON_EXTERNAL_INTERRUPT, 0, 0n);
    return 'exited';
  }
  return 'none';
}

/** models nested_vmx_exit_reflected() (arch/x86/kvm/vmx/nested.c) for the exits L2 can cause here. */
export function nestedVmxExitReflected(v12: Vmcs12, reason: number): boolean {
  switch (reason) {
    case EXIT_REASON_HLT:
      return v12.has(CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_HLT_EXITING);
    case EXIT_REASON_VMCALL:
    case EXIT_REASON_TRIPLE_FAULT:
      return true;
    case EXIT_REASON_INTERRUPT_WINDOW:
      return v12.has(CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_INTR_WINDOW_EXITING);
    case EXIT_REASON_NMI_WINDOW:
      return v12.has(CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_NMI_WINDOW_EXITING);
    case EXIT_REASON_CR_ACCESS:
      return v12.has(CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_CR3_LOAD_EXITING);
    default:
      return false; // external interrupts, L0's preemption timer: L0's own business
  }
}

export { finishExitCount };
