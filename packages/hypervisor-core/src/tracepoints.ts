/**
 * The kernel tracepoints the model emits, with the kernel's names and field names, so a kvmlab
 * trace reads like `trace-cmd report` (or `perf script`) of the same sequence on a real host.
 *
 * Sources (field lists are TP_STRUCT__entry of each TRACE_EVENT, read with the search tools):
 * - x86: arch/x86/kvm/trace.h (TRACE_SYSTEM kvm), torvalds/linux v5.4 and a current tree;
 * - arm64: arch/arm64/kvm/trace.h of v5.4 (kvm_hvc_arm64), arch/arm64/kvm/trace_handle_exit.h
 *   of current trees (kvm_hvc_arm64, kvm_smc_arm64), both TRACE_SYSTEM kvm.
 *
 * `fields` are the v5.4 fields when the tracepoint exists in v5.4 (the release the series are
 * from), else the current kernel's. `since` says which: '5.4', or 'later' for tracepoints added
 * after 5.4 that the model emits anyway because they name what happens (nVMX had no VM-Enter
 * tracepoint in 5.4; KVM traced a trapped SMC only from 2025). `currentFields` lists what a
 * current kernel records where it differs. An event carries a subset of `fields`: the model
 * leaves out what it does not model (the guest RIP/PC — the model's guests are not instruction
 * streams at every exit). Values are written as `trace-cmd report` prints them: exit reasons by
 * their VMX_EXIT_REASONS name, 64-bit values in hex.
 *
 * Events without a tracepoint (a selftest's sync, a migration round, "L2 runs") keep a model
 * name and the trace system `kvmlab` (MODEL_TRACE_SYSTEM), so no reader mistakes them for
 * kernel events.
 */

export interface TracepointDef {
  /** TRACE_SYSTEM of the header. */
  readonly system: 'kvm';
  /** The header that defines it (path in torvalds/linux at the release in `since`). */
  readonly source: string;
  /** '5.4': in v5.4 with `fields`; 'later': added after 5.4, `fields` of a current kernel. */
  readonly since: '5.4' | 'later';
  readonly fields: readonly string[];
  /** Fields of a current kernel, where they differ from `fields`. */
  readonly currentFields?: readonly string[];
}

const X86 = 'arch/x86/kvm/trace.h';

/** The table: tracepoint name → definition. */
export const KVM_TRACEPOINTS = {
  // TRACE_EVENT(kvm_entry): v5.4 records vcpu_id only; rip since 5.9, more later.
  kvm_entry: { system: 'kvm', source: X86, since: '5.4', fields: ['vcpu_id'], currentFields: ['vcpu_id', 'rip', 'immediate_exit', 'intr_info', 'error_code', 'guest_mode'] },
  // TRACE_EVENT(kvm_exit): vcpu_id joined in 5.4 (Peter Xu, "Trace vcpu_id for vmexit");
  // intr_info and error_code came in 5.10. info1 = exit qualification, info2 = VM_EXIT_INTR_INFO (vmx_get_exit_info()).
  kvm_exit: { system: 'kvm', source: X86, since: '5.4', fields: ['exit_reason', 'guest_rip', 'isa', 'info1', 'info2', 'vcpu_id'], currentFields: ['exit_reason', 'guest_rip', 'isa', 'info1', 'info2', 'intr_info', 'error_code', 'vcpu_id'] },
  // TRACE_EVENT(kvm_hypercall): ____kvm_emulate_hypercall() traces before the CPL check.
  kvm_hypercall: { system: 'kvm', source: X86, since: '5.4', fields: ['nr', 'a0', 'a1', 'a2', 'a3'] },
  // TRACE_EVENT(kvm_page_fault): handle_ept_violation() traces (GPA, exit qualification).
  kvm_page_fault: { system: 'kvm', source: X86, since: '5.4', fields: ['fault_address', 'error_code'], currentFields: ['vcpu_id', 'guest_rip', 'fault_address', 'error_code'] },
  // TRACE_EVENT(kvm_msr): handle_rdmsr()/handle_wrmsr() (trace_kvm_msr_read/_write, _ex on a #GP).
  kvm_msr: { system: 'kvm', source: X86, since: '5.4', fields: ['write', 'ecx', 'data', 'exception'] },
  // TRACE_EVENT(kvm_pvclock_update): kvm_setup_pvclock_page() writes a vCPU's pvclock_vcpu_time_info.
  kvm_pvclock_update: { system: 'kvm', source: X86, since: '5.4', fields: ['vcpu_id', 'version', 'tsc_timestamp', 'system_time', 'tsc_to_system_mul', 'tsc_shift', 'flags'] },
  // TRACE_EVENT(kvm_update_master_clock): pvclock_update_vm_gtod_copy().
  kvm_update_master_clock: { system: 'kvm', source: X86, since: '5.4', fields: ['use_master_clock', 'host_clock', 'offset_matched'] },
  // TRACE_EVENT(kvm_write_tsc_offset): kvm_vcpu_write_tsc_offset().
  kvm_write_tsc_offset: { system: 'kvm', source: X86, since: '5.4', fields: ['vcpu_id', 'previous_tsc_offset', 'next_tsc_offset'] },
  // TRACE_EVENT(kvm_pml_full): handle_pml_full().
  kvm_pml_full: { system: 'kvm', source: X86, since: '5.4', fields: ['vcpu_id'] },
  // TRACE_EVENT(kvm_nested_vmexit): nested_vmx_exit_reflected() traces every exit from L2 (v5.4).
  kvm_nested_vmexit: { system: 'kvm', source: X86, since: '5.4', fields: ['rip', 'exit_code', 'exit_info1', 'exit_info2', 'exit_int_info', 'exit_int_info_err', 'isa'] },
  // TRACE_EVENT(kvm_nested_vmexit_inject): nested_vmx_vmexit(), from vmcs12's exit fields.
  kvm_nested_vmexit_inject: { system: 'kvm', source: X86, since: '5.4', fields: ['exit_code', 'exit_info1', 'exit_info2', 'exit_int_info', 'exit_int_info_err', 'isa'] },
  // TRACE_EVENT(kvm_nested_intr_vmexit): SVM's nested interrupt exit in v5.4 (nVMX does not emit it).
  kvm_nested_intr_vmexit: { system: 'kvm', source: X86, since: '5.4', fields: ['rip'] },
  // TRACE_EVENT(kvm_nested_vmenter): kvm_nested_vmrun (SVM only in 5.4) renamed and used by
  // nVMX's nested_vmx_enter_non_root_mode() in later kernels; vmcb holds vmcs12's address on VMX,
  // guest_pgd the EPTP12 (nested EPT) or L2's CR3.
  kvm_nested_vmenter: { system: 'kvm', source: X86, since: 'later', fields: ['rip', 'vmcb', 'nested_rip', 'int_ctl', 'event_inj', 'tdp_enabled', 'guest_pgd', 'isa'] },
  // TRACE_EVENT(kvm_hvc_arm64): handle_hvc() (arch/arm64/kvm/handle_exit.c).
  kvm_hvc_arm64: { system: 'kvm', source: 'arch/arm64/kvm/trace.h (v5.4), trace_handle_exit.h (current)', since: '5.4', fields: ['vcpu_pc', 'r0', 'imm'] },
  // TRACE_EVENT(kvm_smc_arm64): handle_smc(), added in 2025 (arch/arm64/kvm/trace_handle_exit.h).
  kvm_smc_arm64: { system: 'kvm', source: 'arch/arm64/kvm/trace_handle_exit.h', since: 'later', fields: ['vcpu_pc', 'r0', 'imm'] },
} as const satisfies Readonly<Record<string, TracepointDef>>;

export type KvmTracepointName = keyof typeof KVM_TRACEPOINTS;

/** Field values by field name, as `trace-cmd report` prints them. */
export type TracepointFields<N extends KvmTracepointName> = Partial<Record<(typeof KVM_TRACEPOINTS)[N]['fields'][number], string | number | boolean>>;

/** The trace system (Chrome trace `cat`) of events that have no kernel tracepoint. */
export const MODEL_TRACE_SYSTEM = 'kvmlab';

/** KVM_ISA_VMX (arch/x86/kvm/trace.h): the `isa` field of the x86 exit tracepoints. */
export const KVM_ISA_VMX = 1;

export function isKvmTracepoint(name: string): name is KvmTracepointName {
  return Object.prototype.hasOwnProperty.call(KVM_TRACEPOINTS, name);
}

/** 64-bit values in hex, as the tracepoints' TP_printk formats print them. */
export const hex = (v: bigint | number): string => `0x${v.toString(16)}`;
