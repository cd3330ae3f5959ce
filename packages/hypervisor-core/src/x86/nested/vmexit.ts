/**
 * Nested VM-Exit (arch/x86/kvm/vmx/nested.c of v5.4; spec nvmx-pml.md §3): sync_vmcs02_to_vmcs12()
 * reads GUEST_CR3 **from vmcs02** when EPT is on — the read that hands L1 a stale value when
 * vmcs02 was last written for another L2 — then prepare_vmcs12(), the switch back to vmcs01 and
 * L1's host state.
 */
import * as F from '../vmcs-fields.js';
import {
  CPU_BASED_USE_TSC_OFFSETING, INTR_INFO_VALID_MASK, INTR_TYPE_EXT_INTR, GUEST_ACTIVITY_ACTIVE, GUEST_ACTIVITY_HLT,
  PIN_BASED_VMX_PREEMPTION_TIMER, VM_ENTRY_IA32E_MODE, VM_EXIT_ACK_INTR_ON_EXIT, VM_EXIT_SAVE_IA32_EFER,
  VM_EXIT_SAVE_VMX_PREEMPTION_TIMER,
} from '../vmx-controls.js';
import { EXIT_REASON_EXTERNAL_INTERRUPT, VMX_EXIT_REASONS_FAILED_VMENTRY } from '../vmx-exit-reasons.js';
import { KVM_MP_STATE_HALTED, KVM_MP_STATE_RUNNABLE } from '../x86-regs.js';
import { cr0GuestOwnedBits, cr4GuestOwnedBits } from './control-regs.js';
import { loadVmcs12HostState } from './host-state.js';
import { nestedVmxLoadMsrList, nestedVmxStoreMsrList } from './msr-lists.js';
import type { NestedVcpuState } from './shapes.js';
import { flushShadowVmcs12 } from './shadow-vmcs12.js';
import { countMark, getVmcs12 } from './state.js';
import { traceNestedVmexitInject } from '../exit-trace.js';
import type { Vmcs12 } from './vmcs12.js';
import { cancelPreemptionTimer, hasInterrupt, vmxGetPreemptionTimerValue } from './wake-sources.js';

/** The guest fields sync_vmcs02_to_vmcs12_rare() copies (is_vmcs12_ext_field() in nested.c). */
export const VMCS12_EXT_FIELDS: ReadonlySet<number> = new Set([
  F.GUEST_ES_SELECTOR, F.GUEST_CS_SELECTOR, F.GUEST_SS_SELECTOR, F.GUEST_DS_SELECTOR, F.GUEST_FS_SELECTOR, F.GUEST_GS_SELECTOR,
  F.GUEST_LDTR_SELECTOR, F.GUEST_TR_SELECTOR, F.GUEST_ES_LIMIT, F.GUEST_CS_LIMIT, F.GUEST_SS_LIMIT, F.GUEST_DS_LIMIT,
  F.GUEST_FS_LIMIT, F.GUEST_GS_LIMIT, F.GUEST_LDTR_LIMIT, F.GUEST_TR_LIMIT, F.GUEST_GDTR_LIMIT, F.GUEST_IDTR_LIMIT,
  F.GUEST_ES_AR_BYTES, F.GUEST_DS_AR_BYTES, F.GUEST_FS_AR_BYTES, F.GUEST_GS_AR_BYTES, F.GUEST_LDTR_AR_BYTES,
  F.GUEST_TR_AR_BYTES, F.GUEST_ES_BASE, F.GUEST_CS_BASE, F.GUEST_SS_BASE, F.GUEST_DS_BASE, F.GUEST_FS_BASE, F.GUEST_GS_BASE,
  F.GUEST_LDTR_BASE, F.GUEST_TR_BASE, F.GUEST_GDTR_BASE, F.GUEST_IDTR_BASE, F.GUEST_PENDING_DBG_EXCEPTIONS,
]);

/** models sync_vmcs02_to_vmcs12_rare() (nested.c): VMREADs from vmcs02, whichever VMCS is loaded. */
export function syncVmcs02ToVmcs12Rare(nv: NestedVcpuState, v12: Vmcs12): void {
  for (const f of VMCS12_EXT_FIELDS) v12.set(f, nv.vmcs02.vmread(f));
  nv.needSyncRare = false;
}

/** models copy_vmcs02_to_vmcs12_rare() (nested.c): the deferred copy, done when L1 needs those fields. */
export function copyVmcs02ToVmcs12Rare(nv: NestedVcpuState, v12: Vmcs12): void {
  if (nv.needSyncRare) syncVmcs02ToVmcs12Rare(nv, v12);
}

/** The value vmcs12 gets for a CR L2 may partly own (vmcs12_guest_cr0()/cr4() in nested.c). */
function syncedCr(nv: NestedVcpuState, v12: Vmcs12, cr: number, mask: number, shadow: number, owned: bigint): bigint {
  const m = v12.get(mask);
  return (nv.vmcs02.vmread(cr) & owned) | (v12.get(cr) & m) | (nv.vmcs02.vmread(shadow) & ~(m | owned));
}

/** models sync_vmcs02_to_vmcs12() (nested.c): the guest state L2 may have changed, from vmcs02. */
export function syncVmcs02ToVmcs12(nv: NestedVcpuState, v12: Vmcs12): void {
  const v02 = nv.vmcs02;
  nv.needSyncRare = true;
  v12.set(F.GUEST_CR0, syncedCr(nv, v12, F.GUEST_CR0, F.CR0_GUEST_HOST_MASK, F.CR0_READ_SHADOW, cr0GuestOwnedBits(v12.get(F.CR0_GUEST_HOST_MASK))));
  v12.set(F.GUEST_CR4, syncedCr(nv, v12, F.GUEST_CR4, F.CR4_GUEST_HOST_MASK, F.CR4_READ_SHADOW, cr4GuestOwnedBits(v12.get(F.CR4_GUEST_HOST_MASK))));
  v12.set(F.GUEST_RSP, v02.vmread(F.GUEST_RSP));
  v12.set(F.GUEST_RIP, v02.vmread(F.GUEST_RIP));
  v12.set(F.GUEST_RFLAGS, v02.vmread(F.GUEST_RFLAGS));
  v12.set(F.GUEST_CS_AR_BYTES, v02.vmread(F.GUEST_CS_AR_BYTES));
  v12.set(F.GUEST_SS_AR_BYTES, v02.vmread(F.GUEST_SS_AR_BYTES));
  v12.set(F.GUEST_SYSENTER_CS, v02.vmread(F.GUEST_SYSENTER_CS));
  v12.set(F.GUEST_SYSENTER_ESP, v02.vmread(F.GUEST_SYSENTER_ESP));
  v12.set(F.GUEST_SYSENTER_EIP, v02.vmread(F.GUEST_SYSENTER_EIP));
  v12.set(F.GUEST_INTERRUPTIBILITY_INFO, v02.vmread(F.GUEST_INTERRUPTIBILITY_INFO));
  v12.set(F.GUEST_ACTIVITY_STATE, BigInt(nv.vcpu.x86.mpState === KVM_MP_STATE_HALTED ? GUEST_ACTIVITY_HLT : GUEST_ACTIVITY_ACTIVE));
  if (v12.has(F.PIN_BASED_VM_EXEC_CONTROL, PIN_BASED_VMX_PREEMPTION_TIMER) && v12.has(F.VM_EXIT_CONTROLS, VM_EXIT_SAVE_VMX_PREEMPTION_TIMER)) {
    v12.set(F.VMX_PREEMPTION_TIMER_VALUE, vmxGetPreemptionTimerValue(nv));
  }
  // L2 may load CR3 itself under nested EPT; with shadow paging GUEST_CR3 is L0's, not L2's.
  if (nv.engine.params.ept) v12.set(F.GUEST_CR3, v02.vmread(F.GUEST_CR3));
  v12.set(F.GUEST_LINEAR_ADDRESS, v02.vmread(F.GUEST_LINEAR_ADDRESS));
  const ia32e = v02.peek(F.VM_ENTRY_CONTROLS) & BigInt(VM_ENTRY_IA32E_MODE); // vm_entry_controls_get(): the cached copy
  v12.set(F.VM_ENTRY_CONTROLS, (v12.get(F.VM_ENTRY_CONTROLS) & ~BigInt(VM_ENTRY_IA32E_MODE)) | ia32e);
  if (v12.has(F.VM_EXIT_CONTROLS, VM_EXIT_SAVE_IA32_EFER)) v12.set(F.GUEST_IA32_EFER, nv.vcpu.x86.efer);
}

/** models prepare_vmcs12() (nested.c): the exit information L1 reads. */
function prepareVmcs12(nv: NestedVcpuState, v12: Vmcs12, reason: number, intrInfo: number, qualification: bigint): void {
  v12.set(F.VM_EXIT_REASON, BigInt(reason >>> 0));
  v12.set(F.EXIT_QUALIFICATION, qualification);
  v12.set(F.VM_EXIT_INTR_INFO, BigInt(intrInfo >>> 0));
  v12.set(F.IDT_VECTORING_INFO_FIELD, 0n);
  v12.set(F.VM_EXIT_INSTRUCTION_LEN, nv.vmcs02.vmread(F.VM_EXIT_INSTRUCTION_LEN));
  v12.set(F.VMX_INSTRUCTION_INFO, nv.vmcs02.vmread(F.VMX_INSTRUCTION_INFO));
  if ((reason & VMX_EXIT_REASONS_FAILED_VMENTRY) === 0) {
    v12.launchState = 1;
    v12.set(F.VM_ENTRY_INTR_INFO_FIELD, v12.get(F.VM_ENTRY_INTR_INFO_FIELD) & ~BigInt(INTR_INFO_VALID_MASK));
    // vmcs12_save_pending_event(): events are delivered at entry in this model, so none is pending.
    if (!nestedVmxStoreMsrList(nv, v12.get(F.VM_EXIT_MSR_STORE_ADDR), v12.get(F.VM_EXIT_MSR_STORE_COUNT))) nestedVmxAbort(nv);
  }
}

/** models nested_vmx_abort() (nested.c): KVM_REQ_TRIPLE_FAULT, i.e. L1 shuts down. */
function nestedVmxAbort(nv: NestedVcpuState): void {
  nv.vcpu.countExit('vmx-abort');
}

/**
 * models nested_vmx_vmexit() (nested.c). `reason` -1 is vmx_leave_nested()'s forced exit: no
 * exit information is written and no interrupt is acknowledged.
 */
export function nestedVmxVmexit(nv: NestedVcpuState, reason: number, intrInfo: number, qualification: bigint): void {
  if (!nv.vcpu.x86.guestMode || nv.currentVmptr === -1n) return;
  const v12 = getVmcs12(nv);
  nv.exitMark ??= countMark(nv);
  nv.vcpu.x86.guestMode = false; // leave_guest_mode()
  if (v12.has(F.PIN_BASED_VM_EXEC_CONTROL, PIN_BASED_VMX_PREEMPTION_TIMER)) cancelPreemptionTimer(nv);
  if (v12.has(F.CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_USE_TSC_OFFSETING)) nv.vcpu.x86.tscOffset -= v12.get(F.TSC_OFFSET);
  syncVmcs02ToVmcs12(nv, v12);
  if (reason !== -1) prepareVmcs12(nv, v12, reason, intrInfo, qualification);
  flushShadowVmcs12(nv, v12);
  nv.loaded = nv.vmcs01; // vmx_switch_vmcs(vmcs01)
  nv.vmcs01.vmwrite(F.TSC_OFFSET, nv.vcpu.x86.tscOffset);
  nv.vcpu.x86.mpState = KVM_MP_STATE_RUNNABLE; // in case L2 was halted
  if (reason === EXIT_REASON_EXTERNAL_INTERRUPT && v12.has(F.VM_EXIT_CONTROLS, VM_EXIT_ACK_INTR_ON_EXIT) && hasInterrupt(nv)) {
    const vector = nv.pendingIrqs.shift()!; // kvm_cpu_get_interrupt(): acknowledged on exit
    v12.set(F.VM_EXIT_INTR_INFO, BigInt((vector | INTR_TYPE_EXT_INTR | INTR_INFO_VALID_MASK) >>> 0));
  }
  if (reason !== -1) traceNestedVmexitInject(nv.vcpu, v12); // after the interrupt acknowledgement, as nested_vmx_vmexit() does
  loadVmcs12HostState(nv, v12);
  if (nestedVmxLoadMsrList(nv, v12.get(F.VM_EXIT_MSR_LOAD_ADDR), v12.get(F.VM_EXIT_MSR_LOAD_COUNT)) !== 0) nestedVmxAbort(nv);
  if (reason !== -1) nv.stats.nestedExits[reason] = (nv.stats.nestedExits[reason] ?? 0) + 1;
  nv.lastExit = { vmptr: nv.currentVmptr, reason, guestCr3: v12.get(F.GUEST_CR3) };
}
