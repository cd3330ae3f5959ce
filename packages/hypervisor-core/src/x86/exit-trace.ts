/**
 * The x86 exit tracepoints, emitted where KVM emits them (see ../tracepoints.ts for the table):
 * kvm_exit from vmx_handle_exit()'s caller (vcpu_enter_guest(), x86.c), then, while L2 runs,
 * kvm_nested_vmexit from nested_vmx_exit_reflected() (nested.c of v5.4) — for every L2 exit,
 * reflected to L1 or not; and the nested-entry/-exit tracepoints. Only when tracing is on, and
 * reading state only (vmcs12 fields by get(), which counts nothing), so a traced run's figures are
 * an untraced run's.
 */
import type { Tracer } from '../trace.js';
import { hex, KVM_ISA_VMX } from '../tracepoints.js';
import * as F from './vmcs-fields.js';
import { EXIT_REASON_NAMES } from './vmx-exit-reasons.js';

/** What these helpers read of a vCPU (structural, so vcpu.ts can use them without an import cycle). */
export interface TracedVcpu {
  readonly id: number;
  readonly track: string;
  readonly x86: { readonly guestMode: boolean };
  readonly vm: { readonly hv: { readonly trace: Tracer; readonly sim: { readonly now: bigint } } };
}

/** The VMX_EXIT_REASONS symbol trace-cmd prints for a basic exit reason. */
export const exitReasonSymbol = (reason: number): string => EXIT_REASON_NAMES.get(reason & 0xffff) ?? String(reason);

/**
 * kvm_exit (and kvm_nested_vmexit in guest mode) for a hardware exit. `qualification` is the
 * exit qualification (info1), `intrInfo` VM_EXIT_INTR_INFO (info2); 0 where the model does not
 * compute them (e.g. a VMX instruction's displacement), so read them as the model's, not a CPU's.
 */
export function traceVmxExit(vcpu: TracedVcpu, reason: number, qualification = 0n, intrInfo = 0): void {
  const tr = vcpu.vm.hv.trace;
  if (!tr.enabled) return;
  const now = vcpu.vm.hv.sim.now;
  const exitReason = exitReasonSymbol(reason);
  tr.tracepoint(vcpu.track, 'kvm_exit', now, { exit_reason: exitReason, isa: KVM_ISA_VMX, info1: hex(qualification), info2: hex(intrInfo), vcpu_id: vcpu.id });
  if (vcpu.x86.guestMode) {
    tr.tracepoint(vcpu.track, 'kvm_nested_vmexit', now, { exit_code: exitReason, exit_info1: hex(qualification), exit_info2: hex(0), exit_int_info: hex(intrInfo), exit_int_info_err: hex(0), isa: KVM_ISA_VMX });
  }
}

/** The vmcs12 fields the nested tracepoints read (a Vmcs12's get()). */
interface Vmcs12Fields {
  get(field: number): bigint;
}

/** kvm_nested_vmexit_inject: nested_vmx_vmexit() (nested.c of v5.4), from vmcs12's exit fields once prepare_vmcs12() wrote them. */
export function traceNestedVmexitInject(vcpu: TracedVcpu, v12: Vmcs12Fields): void {
  const tr = vcpu.vm.hv.trace;
  if (!tr.enabled) return;
  tr.tracepoint(vcpu.track, 'kvm_nested_vmexit_inject', vcpu.vm.hv.sim.now, {
    exit_code: exitReasonSymbol(Number(v12.get(F.VM_EXIT_REASON))),
    exit_info1: hex(v12.get(F.EXIT_QUALIFICATION)),
    exit_info2: hex(v12.get(F.IDT_VECTORING_INFO_FIELD)),
    exit_int_info: hex(v12.get(F.VM_EXIT_INTR_INFO)),
    exit_int_info_err: hex(v12.get(F.VM_EXIT_INTR_ERROR_CODE)),
    isa: KVM_ISA_VMX,
  });
}

/**
 * kvm_nested_vmenter: nested_vmx_enter_non_root_mode() in kernels after 5.4 (v5.4 has no nVMX
 * entry tracepoint). `vmcb` is vmcs12's address on VMX; guest_pgd EPTP12 with nested EPT, else L2's CR3.
 */
export function traceNestedVmenter(vcpu: TracedVcpu, vmptr: bigint, v12: Vmcs12Fields, nestedEpt: boolean): void {
  const tr = vcpu.vm.hv.trace;
  if (!tr.enabled) return;
  tr.tracepoint(vcpu.track, 'kvm_nested_vmenter', vcpu.vm.hv.sim.now, {
    vmcb: hex(vmptr),
    nested_rip: hex(v12.get(F.GUEST_RIP)),
    int_ctl: hex(v12.get(F.GUEST_INTR_STATUS)),
    event_inj: hex(v12.get(F.VM_ENTRY_INTR_INFO_FIELD)),
    tdp_enabled: nestedEpt,
    guest_pgd: hex(nestedEpt ? v12.get(F.EPT_POINTER) : v12.get(F.GUEST_CR3)),
    isa: KVM_ISA_VMX,
  });
}

/** kvm_entry: vcpu_enter_guest() (x86.c of v5.4) right before the hardware entry, into L1 or L2. */
export function traceVmEntry(vcpu: TracedVcpu): void {
  const tr = vcpu.vm.hv.trace;
  if (tr.enabled) tr.tracepoint(vcpu.track, 'kvm_entry', vcpu.vm.hv.sim.now, { vcpu_id: vcpu.id });
}
