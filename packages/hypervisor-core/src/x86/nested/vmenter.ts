/**
 * Nested VM-Enter (arch/x86/kvm/vmx/nested.c of v5.4; spec nvmx-pml.md §2): nested_vmx_run() →
 * nested_vmx_enter_non_root_mode() → prepare_vmcs02_early() / prepare_vmcs02(), then the HLT
 * squash. vmcs02.GUEST_CR3 is written here only by a plugin's hooks (the RFC in
 * nested_vmx_load_cr3(), the merged fix in prepare_vmcs02()); Linux 5.3/5.4 leave it to
 * vmx_set_cr3() at the next real entry — which a HLT-squashed entry never reaches.
 */
import * as F from '../vmcs-fields.js';
import {
  CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, CPU_BASED_CR8_LOAD_EXITING, CPU_BASED_CR8_STORE_EXITING,
  CPU_BASED_TPR_SHADOW, CPU_BASED_UNCOND_IO_EXITING, CPU_BASED_USE_IO_BITMAPS, CPU_BASED_USE_MSR_BITMAPS,
  CPU_BASED_USE_TSC_OFFSETING, CPU_BASED_VIRTUAL_INTR_PENDING, CPU_BASED_VIRTUAL_NMI_PENDING, GUEST_ACTIVITY_HLT,
  INTR_INFO_VALID_MASK, PIN_BASED_POSTED_INTR, PIN_BASED_VMX_PREEMPTION_TIMER, SECONDARY_EXEC_APIC_REGISTER_VIRT,
  SECONDARY_EXEC_ENABLE_PML, SECONDARY_EXEC_ENABLE_VMFUNC, SECONDARY_EXEC_ENABLE_VPID, SECONDARY_EXEC_RDTSCP,
  SECONDARY_EXEC_ENABLE_INVPCID, SECONDARY_EXEC_SHADOW_VMCS, SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY,
  SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES, SECONDARY_EXEC_XSAVES, VM_ENTRY_IA32E_MODE, VM_ENTRY_LOAD_DEBUG_CONTROLS,
  VM_ENTRY_LOAD_IA32_EFER, VM_ENTRY_LOAD_IA32_PAT, VM_EXIT_LOAD_IA32_EFER,
  PML_ENTITY_NUM,
} from '../vmx-controls.js';
import {
  EXIT_REASON_INVALID_STATE, EXIT_REASON_MSR_LOAD_FAIL, VMX_EXIT_REASONS_FAILED_VMENTRY,
  VMXERR_ENTRY_INVALID_CONTROL_FIELD, VMXERR_ENTRY_INVALID_HOST_STATE_FIELD, VMXERR_VMLAUNCH_NONCLEAR_VMCS,
  VMXERR_VMRESUME_NONLAUNCHED_VMCS,
} from '../vmx-exit-reasons.js';
import { EFER_LMA, EFER_LME, X86_EFLAGS_IF, KVM_MP_STATE_HALTED } from '../x86-regs.js';
import { nestedCpuHas2, nestedCpuHasEpt, nestedVmxCheckControls, nestedVmxCheckGuestState, nestedVmxCheckHostState } from './checks.js';
import { cr0GuestOwnedBits, vmxSetCr0, vmxSetCr4, vmxSetEfer, vmxSetRflags } from './control-regs.js';
import { loadVmcs12HostState } from './host-state.js';
import { nestedVmxLoadCr3 } from './load-cr3.js';
import { kvmMmuNewCr3 } from './mmu-roots.js';
import { nestedVmxLoadMsrList } from './msr-lists.js';
import type { NestedVcpuState } from './shapes.js';
import { cacheShadowVmcs12 } from './shadow-vmcs12.js';
import { getVmcs12 } from './state.js';
import { traceNestedVmenter } from '../exit-trace.js';
import { l0EntryControls, l0ExecControls, l0ExitControls, l0PinControls, l0SecondaryControls, setControl, vpid02Of, vpidOf } from './vmcs01.js';
import type { Vmcs12 } from './vmcs12.js';
import { vmcs12TimerValue, vmxStartPreemptionTimer } from './wake-sources.js';

/** The guest segment and descriptor-table fields prepare_vmcs02_rare() copies from vmcs12. */
const GUEST_SEGMENT_FIELDS: readonly number[] = [
  F.GUEST_ES_SELECTOR, F.GUEST_CS_SELECTOR, F.GUEST_SS_SELECTOR, F.GUEST_DS_SELECTOR, F.GUEST_FS_SELECTOR, F.GUEST_GS_SELECTOR,
  F.GUEST_LDTR_SELECTOR, F.GUEST_TR_SELECTOR, F.GUEST_ES_LIMIT, F.GUEST_CS_LIMIT, F.GUEST_SS_LIMIT, F.GUEST_DS_LIMIT,
  F.GUEST_FS_LIMIT, F.GUEST_GS_LIMIT, F.GUEST_LDTR_LIMIT, F.GUEST_TR_LIMIT, F.GUEST_GDTR_LIMIT, F.GUEST_IDTR_LIMIT,
  F.GUEST_CS_AR_BYTES, F.GUEST_SS_AR_BYTES, F.GUEST_ES_AR_BYTES, F.GUEST_DS_AR_BYTES, F.GUEST_FS_AR_BYTES,
  F.GUEST_GS_AR_BYTES, F.GUEST_LDTR_AR_BYTES, F.GUEST_TR_AR_BYTES, F.GUEST_ES_BASE, F.GUEST_CS_BASE, F.GUEST_SS_BASE,
  F.GUEST_DS_BASE, F.GUEST_FS_BASE, F.GUEST_GS_BASE, F.GUEST_LDTR_BASE, F.GUEST_TR_BASE, F.GUEST_GDTR_BASE, F.GUEST_IDTR_BASE,
  F.GUEST_SYSENTER_CS, F.GUEST_PENDING_DBG_EXCEPTIONS, F.GUEST_SYSENTER_ESP, F.GUEST_SYSENTER_EIP,
];

/** models prepare_vmcs02_constant_state() (nested.c): once per vmcs02, L0's own settings — PML among them. */
function prepareVmcs02ConstantState(nv: NestedVcpuState): void {
  if (nv.vmcs02Initialized) return;
  nv.vmcs02Initialized = true;
  const pml = nv.engine.ops.pmlAddress;
  if (nv.engine.params.pml && pml !== undefined) {
    // The PML page never changes; the index is reset on every exit, so it is constant in vmcs02 too.
    nv.vmcs02.vmwrite(F.PML_ADDRESS, pml(nv));
    nv.vmcs02.vmwrite(F.GUEST_PML_INDEX, BigInt(PML_ENTITY_NUM - 1));
  }
  nv.vmcs02.vmwrite(F.VM_EXIT_MSR_STORE_COUNT, 0n);
}

/** models prepare_vmcs02_early_rare() (nested.c). */
function prepareVmcs02EarlyRare(nv: NestedVcpuState, v12: Vmcs12): void {
  prepareVmcs02ConstantState(nv);
  nv.vmcs02.vmwrite(F.VMCS_LINK_POINTER, 0xffff_ffff_ffff_ffffn);
  if (nv.engine.params.vpid) {
    nv.vmcs02.vmwrite(F.VIRTUAL_PROCESSOR_ID, nestedCpuHas2(v12, SECONDARY_EXEC_ENABLE_VPID) ? vpid02Of(nv) : vpidOf(nv));
  }
}

/** models nested_vmx_calc_efer() (nested.c). */
function nestedVmxCalcEfer(nv: NestedVcpuState, v12: Vmcs12): bigint {
  if (nv.nestedRunPending && v12.has(F.VM_ENTRY_CONTROLS, VM_ENTRY_LOAD_IA32_EFER)) return v12.get(F.GUEST_IA32_EFER);
  if (v12.has(F.VM_ENTRY_CONTROLS, VM_ENTRY_IA32E_MODE)) return nv.vcpu.x86.efer | EFER_LMA | EFER_LME;
  return nv.vcpu.x86.efer & ~(EFER_LMA | EFER_LME);
}

/** models prepare_vmcs02_early() (nested.c): L0's controls merged with vmcs12's. */
function prepareVmcs02Early(nv: NestedVcpuState, v12: Vmcs12): void {
  const p = nv.engine.params;
  const guestEfer = nestedVmxCalcEfer(nv, v12);
  if (nv.dirtyVmcs12) prepareVmcs02EarlyRare(nv, v12);
  // L1's preemption timer is emulated with an hrtimer, so vmcs02 never uses it; posted interrupts
  // come only from vmcs12 (and the model's host has none).
  const pin = BigInt(l0PinControls()) | (v12.get(F.PIN_BASED_VM_EXEC_CONTROL) & ~BigInt(PIN_BASED_VMX_PREEMPTION_TIMER));
  setControl(nv, F.PIN_BASED_VM_EXEC_CONTROL, pin & ~BigInt(PIN_BASED_POSTED_INTR));
  // L0's own controls (HLT exiting among them) stay; the window-exiting bits come from vmcs12 only.
  let exec = BigInt(l0ExecControls(p)) & ~BigInt(CPU_BASED_VIRTUAL_INTR_PENDING | CPU_BASED_VIRTUAL_NMI_PENDING | CPU_BASED_TPR_SHADOW);
  exec |= v12.get(F.CPU_BASED_VM_EXEC_CONTROL);
  if ((exec & BigInt(CPU_BASED_TPR_SHADOW)) !== 0n) nv.vmcs02.vmwrite(F.TPR_THRESHOLD, v12.get(F.TPR_THRESHOLD));
  else exec |= BigInt(CPU_BASED_CR8_LOAD_EXITING | CPU_BASED_CR8_STORE_EXITING);
  // Every I/O access exits (to L1 or to L0's userspace); the MSR-bitmap bit is settled later.
  exec = (exec | BigInt(CPU_BASED_UNCOND_IO_EXITING)) & ~BigInt(CPU_BASED_USE_IO_BITMAPS);
  exec = (exec & ~BigInt(CPU_BASED_USE_MSR_BITMAPS)) | (nv.vmcs02.peek(F.CPU_BASED_VM_EXEC_CONTROL) & BigInt(CPU_BASED_USE_MSR_BITMAPS));
  setControl(nv, F.CPU_BASED_VM_EXEC_CONTROL, exec);
  // vmcs01's secondary controls — ENABLE_PML included when L0 has it — plus vmcs12's without its
  // own ENABLE_PML, which is emulated and never reaches the hardware.
  let sec = BigInt(l0SecondaryControls(p)) & ~BigInt(SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES | SECONDARY_EXEC_ENABLE_INVPCID |
    SECONDARY_EXEC_RDTSCP | SECONDARY_EXEC_XSAVES | SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY | SECONDARY_EXEC_APIC_REGISTER_VIRT |
    SECONDARY_EXEC_ENABLE_VMFUNC);
  if (v12.has(F.CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_ACTIVATE_SECONDARY_CONTROLS)) {
    sec |= v12.get(F.SECONDARY_VM_EXEC_CONTROL) & ~BigInt(SECONDARY_EXEC_ENABLE_PML);
  }
  setControl(nv, F.SECONDARY_VM_EXEC_CONTROL, sec & ~BigInt(SECONDARY_EXEC_SHADOW_VMCS));
  let entry = (v12.get(F.VM_ENTRY_CONTROLS) | BigInt(l0EntryControls())) & ~BigInt(VM_ENTRY_IA32E_MODE | VM_ENTRY_LOAD_IA32_EFER);
  if ((guestEfer & EFER_LMA) !== 0n) entry |= BigInt(VM_ENTRY_IA32E_MODE);
  const hostEfer = nv.vcpu.x86.efer;
  if (guestEfer !== hostEfer) entry |= BigInt(VM_ENTRY_LOAD_IA32_EFER);
  setControl(nv, F.VM_ENTRY_CONTROLS, entry);
  setControl(nv, F.VM_EXIT_CONTROLS, BigInt(l0ExitControls()) | (guestEfer !== hostEfer ? BigInt(VM_EXIT_LOAD_IA32_EFER) : 0n));
  if (nv.nestedRunPending) {
    nv.vmcs02.vmwrite(F.VM_ENTRY_INTR_INFO_FIELD, v12.get(F.VM_ENTRY_INTR_INFO_FIELD));
    nv.vmcs02.vmwrite(F.VM_ENTRY_EXCEPTION_ERROR_CODE, v12.get(F.VM_ENTRY_EXCEPTION_ERROR_CODE));
    nv.vmcs02.vmwrite(F.VM_ENTRY_INSTRUCTION_LEN, v12.get(F.VM_ENTRY_INSTRUCTION_LEN));
    nv.vmcs02.vmwrite(F.GUEST_INTERRUPTIBILITY_INFO, v12.get(F.GUEST_INTERRUPTIBILITY_INFO));
  } else {
    nv.vmcs02.vmwrite(F.VM_ENTRY_INTR_INFO_FIELD, 0n);
  }
}

/** models prepare_vmcs02_rare() (nested.c): the fields L1 rarely changes, copied when vmcs12 is dirty. */
function prepareVmcs02Rare(nv: NestedVcpuState, v12: Vmcs12): void {
  for (const f of GUEST_SEGMENT_FIELDS) nv.vmcs02.vmwrite(f, v12.get(f));
  const ept = nv.engine.params.ept;
  if (ept) for (const f of [F.GUEST_PDPTR0, F.GUEST_PDPTR1, F.GUEST_PDPTR2, F.GUEST_PDPTR3]) nv.vmcs02.vmwrite(f, v12.get(f));
  nv.vmcs02.vmwrite(F.PAGE_FAULT_ERROR_CODE_MASK, ept ? v12.get(F.PAGE_FAULT_ERROR_CODE_MASK) : 0n);
  nv.vmcs02.vmwrite(F.PAGE_FAULT_ERROR_CODE_MATCH, ept ? v12.get(F.PAGE_FAULT_ERROR_CODE_MATCH) : 0n);
  nv.vmcs02.vmwrite(F.VM_EXIT_MSR_LOAD_COUNT, 0n);
  nv.vmcs02.vmwrite(F.VM_ENTRY_MSR_LOAD_COUNT, 0n);
}

/** nested_read_cr0() / nested_read_cr4() (nested.h): what L2 reads from its CRs. */
const nestedReadCr = (v12: Vmcs12, cr: number, mask: number, shadow: number): bigint =>
  (v12.get(cr) & ~v12.get(mask)) | (v12.get(shadow) & v12.get(mask));

/** models nested_ept_init_mmu_context() (nested.c): L2 runs on guest_mmu, the shadow of EPTP12. */
function nestedEptInitMmuContext(nv: NestedVcpuState, v12: Vmcs12): void {
  const eptp12 = v12.get(F.EPT_POINTER);
  nv.mmu = nv.guestMmu;
  nv.engine.ops.nestedEptInit?.(nv, eptp12);
  kvmMmuNewCr3(nv, nv.guestMmu, eptp12); // kvm_init_shadow_ept_mmu() → __kvm_mmu_new_cr3(EPTP12)
}

/** models prepare_vmcs02() (nested.c). Returns null, or the exit qualification of a failed entry. */
function prepareVmcs02(nv: NestedVcpuState, v12: Vmcs12): number | null {
  const v02 = nv.vmcs02;
  if (nv.dirtyVmcs12) {
    prepareVmcs02Rare(nv, v12);
    nv.dirtyVmcs12 = false;
  }
  // Stryker disable next-line all: VM_ENTRY_LOAD_DEBUG_CONTROLS is not in the entry controls offered to L1 (KVM clears it from the allowed-1 bits here), so loadDebug is always false
  const loadDebug = nv.nestedRunPending && v12.has(F.VM_ENTRY_CONTROLS, VM_ENTRY_LOAD_DEBUG_CONTROLS);
  v02.vmwrite(F.GUEST_IA32_DEBUGCTL, loadDebug ? v12.get(F.GUEST_IA32_DEBUGCTL) : 0n);
  vmxSetRflags(nv, v12.get(F.GUEST_RFLAGS));
  v02.vmwrite(F.EXCEPTION_BITMAP, v12.get(F.EXCEPTION_BITMAP)); // update_exception_bitmap(): L0 wants none with EPT
  v02.vmwrite(F.CR0_GUEST_HOST_MASK, ~cr0GuestOwnedBits(v12.get(F.CR0_GUEST_HOST_MASK)));
  if (nv.nestedRunPending && v12.has(F.VM_ENTRY_CONTROLS, VM_ENTRY_LOAD_IA32_PAT)) v02.vmwrite(F.GUEST_IA32_PAT, v12.get(F.GUEST_IA32_PAT));
  v02.vmwrite(F.TSC_OFFSET, nv.vcpu.x86.tscOffset);
  if (nv.engine.params.vpid && !(nestedCpuHas2(v12, SECONDARY_EXEC_ENABLE_VPID) && nestedCpuHasEpt(v12))) nv.requests.add('TLB_FLUSH');
  if (nestedCpuHasEpt(v12)) nestedEptInitMmuContext(nv, v12);
  vmxSetCr0(nv, v12.get(F.GUEST_CR0));
  v02.vmwrite(F.CR0_READ_SHADOW, nestedReadCr(v12, F.GUEST_CR0, F.CR0_GUEST_HOST_MASK, F.CR0_READ_SHADOW));
  vmxSetCr4(nv, v12.get(F.GUEST_CR4));
  v02.vmwrite(F.CR4_READ_SHADOW, nestedReadCr(v12, F.GUEST_CR4, F.CR4_GUEST_HOST_MASK, F.CR4_READ_SHADOW));
  vmxSetEfer(nv, nestedVmxCalcEfer(nv, v12));
  const fail = nestedVmxLoadCr3(nv, v12.get(F.GUEST_CR3), nestedCpuHasEpt(v12));
  if (fail !== null) return fail;
  nv.engine.ops.prepareVmcs02Cr3?.(nv, v12);
  // kvm_rsp_write() / kvm_rip_write(): flushed into vmcs02 before the hardware entry.
  v02.vmwrite(F.GUEST_RSP, v12.get(F.GUEST_RSP));
  v02.vmwrite(F.GUEST_RIP, v12.get(F.GUEST_RIP));
  nv.vcpu.x86.rip = v12.get(F.GUEST_RIP);
  return null;
}

export type EnterStatus = 'success' | 'vmexit';

/**
 * models nested_vmx_enter_non_root_mode() (nested.c). `fromVmentry` is false for
 * KVM_SET_NESTED_STATE, which reports a failure instead of exiting to L1.
 */
export function nestedVmxEnterNonRootMode(nv: NestedVcpuState, fromVmentry: boolean): EnterStatus {
  const v12 = getVmcs12(nv);
  if (fromVmentry) traceNestedVmenter(nv.vcpu, nv.currentVmptr, v12, nestedCpuHasEpt(v12));
  // Stryker disable next-line all: the value read is never used (kvm's vmcs01_debugctl only matters with LOAD_DEBUG_CONTROLS, never offered); only the VMREAD count sees it
  if (!v12.has(F.VM_ENTRY_CONTROLS, VM_ENTRY_LOAD_DEBUG_CONTROLS)) nv.vmcs01.vmread(F.GUEST_IA32_DEBUGCTL); // vmcs01_debugctl
  if (!nv.engine.params.ept) nv.vmcs01.vmwrite(F.GUEST_CR3, nv.vcpu.x86.cr3);
  nv.loaded = nv.vmcs02; // vmx_switch_vmcs(): the register cache is *not* refreshed
  prepareVmcs02Early(nv, v12);
  let reason = EXIT_REASON_INVALID_STATE;
  let qual: number | null = fromVmentry ? nestedVmxCheckGuestState(nv, v12) : null;
  const useTsc = v12.has(F.CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_USE_TSC_OFFSETING);
  if (qual === null) {
    nv.vcpu.x86.guestMode = true; // enter_guest_mode()
    if (useTsc) nv.vcpu.x86.tscOffset += v12.get(F.TSC_OFFSET);
    qual = prepareVmcs02(nv, v12);
    if (qual === null && fromVmentry) {
      const failedAt = nestedVmxLoadMsrList(nv, v12.get(F.VM_ENTRY_MSR_LOAD_ADDR), v12.get(F.VM_ENTRY_MSR_LOAD_COUNT));
      if (failedAt !== 0) {
        reason = EXIT_REASON_MSR_LOAD_FAIL;
        qual = failedAt;
      }
    }
    if (qual !== null) {
      if (useTsc) nv.vcpu.x86.tscOffset -= v12.get(F.TSC_OFFSET);
      nv.vcpu.x86.guestMode = false; // leave_guest_mode()
    }
  }
  if (qual !== null) {
    nv.loaded = nv.vmcs01;
    // Stryker disable next-line StringLiteral: both callers only ask whether the result is 'success' (vmenter.ts nestedVmxRun, nested-state.ts ignores it)
    if (!fromVmentry) return 'vmexit';
    loadVmcs12HostState(nv, v12);
    v12.set(F.VM_EXIT_REASON, BigInt((reason | VMX_EXIT_REASONS_FAILED_VMENTRY) >>> 0));
    v12.set(F.EXIT_QUALIFICATION, BigInt(qual));
    // Stryker disable next-line StringLiteral: both callers only ask whether the result is 'success'
    return 'vmexit';
  }
  // The hrtimer starts only once the entry is sure to succeed, so only a nested exit cancels it.
  nv.preemptionTimerExpired = false;
  if (v12.has(F.PIN_BASED_VM_EXEC_CONTROL, PIN_BASED_VMX_PREEMPTION_TIMER)) vmxStartPreemptionTimer(nv, vmcs12TimerValue(nv));
  return 'success';
}

export type NestedRunResult =
  | { readonly kind: 'fail-invalid' }
  | { readonly kind: 'fail-valid'; readonly error: number }
  | { readonly kind: 'failed-entry' }
  | { readonly kind: 'entered' }
  | { readonly kind: 'squashed' };

/** The HLT squash condition of nested_vmx_run() (nested.c): nothing would wake a halted L2 at entry. */
export function shouldSquashHlt(v12: Vmcs12): boolean {
  return (
    Number(v12.get(F.GUEST_ACTIVITY_STATE)) === GUEST_ACTIVITY_HLT &&
    !v12.has(F.VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID_MASK) &&
    !v12.has(F.CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_VIRTUAL_NMI_PENDING) &&
    !(v12.has(F.CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_VIRTUAL_INTR_PENDING) && (v12.get(F.GUEST_RFLAGS) & X86_EFLAGS_IF) !== 0n)
  );
}

/** models nested_vmx_run() (nested.c) after nested_vmx_check_permission(). */
export function nestedVmxRun(nv: NestedVcpuState, launch: boolean): NestedRunResult {
  if (nv.currentVmptr === -1n) return { kind: 'fail-invalid' };
  const v12 = getVmcs12(nv);
  if (v12.shadowVmcs) return { kind: 'fail-invalid' }; // a shadow VMCS cannot be launched: CF, no error number
  if (v12.launchState === (launch ? 1 : 0)) {
    return { kind: 'fail-valid', error: launch ? VMXERR_VMLAUNCH_NONCLEAR_VMCS : VMXERR_VMRESUME_NONLAUNCHED_VMCS };
  }
  if (!nestedVmxCheckControls(nv, v12)) return { kind: 'fail-valid', error: VMXERR_ENTRY_INVALID_CONTROL_FIELD };
  if (!nestedVmxCheckHostState(nv, v12)) return { kind: 'fail-valid', error: VMXERR_ENTRY_INVALID_HOST_STATE_FIELD };
  nv.nestedRunPending = true;
  if (nestedVmxEnterNonRootMode(nv, true) !== 'success') {
    nv.nestedRunPending = false;
    return { kind: 'failed-entry' };
  }
  cacheShadowVmcs12(nv, v12);
  if (shouldSquashHlt(v12)) {
    nv.nestedRunPending = false;
    nv.vcpu.x86.mpState = KVM_MP_STATE_HALTED; // kvm_vcpu_halt() with an in-kernel LAPIC
    return { kind: 'squashed' };
  }
  // Stryker disable next-line ObjectLiteral,StringLiteral: 'entered' is the one kind handleVmLaunchResume() (vmx-insn.ts) does not test for: any other value falls through to the same path
  return { kind: 'entered' };
}
