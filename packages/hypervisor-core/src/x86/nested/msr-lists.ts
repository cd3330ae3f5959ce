/**
 * The VM-entry MSR-load, VM-exit MSR-store and VM-exit MSR-load lists of vmcs12
 * (nested_vmx_load_msr(), nested_vmx_store_msr() in arch/x86/kvm/vmx/nested.c of v5.4): arrays of
 * 16-byte struct vmx_msr_entry { u32 index; u32 reserved; u64 value; } in L1's memory, applied
 * with kvm_set_msr()/kvm_get_msr() — the MSRs the installed plugins implement.
 */
import { readLe, leBytes } from '../../bigint.js';
import type { NestedVcpuState } from './shapes.js';

/** nested_vmx_max_atomic_switch_msrs(): (IA32_VMX_MISC bits 27:25 + 1) * 512. */
const maxMsrs = (nv: NestedVcpuState): bigint => BigInt((((nv.engine.msrs.miscLow >>> 25) & 7) + 1) * 512);

/** x2APIC MSRs (0x800–0x8ff) may not be loaded this way, nor SMM monitor or microcode MSRs (nested_vmx_msr_check_common()). */
const loadRefused = (index: number): boolean =>
  (index >>> 8) === 0x8 || index === 0x9b /* MSR_IA32_SMM_MONITOR_CTL */ || index === 0x8b /* MSR_IA32_UCODE_REV */ ||
  index === 0x79 /* MSR_IA32_UCODE_WRITE */ || index === 0xc0000100 /* MSR_FS_BASE */ || index === 0xc0000101; /* MSR_GS_BASE */

/** models nested_vmx_load_msr(): 0 on success, else the 1-based index of the entry that failed. */
export function nestedVmxLoadMsrList(nv: NestedVcpuState, gpa: bigint, count: bigint): number {
  const mem = nv.vcpu.vm.memory;
  const max = maxMsrs(nv);
  for (let i = 0n; i < count; i++) {
    const at = gpa + i * 16n;
    if (i >= max || !mem.isMapped(at, 16)) return Number(i + 1n);
    const e = mem.read(at, 16);
    const index = Number(readLe(e, 0, 4));
    if (readLe(e, 4, 4) !== 0n || loadRefused(index) || !nv.vcpu.kvmSetMsr(index, readLe(e, 8, 8))) return Number(i + 1n);
  }
  return 0;
}

/** models nested_vmx_store_msr(): false if an entry could not be stored (a VMX abort). */
export function nestedVmxStoreMsrList(nv: NestedVcpuState, gpa: bigint, count: bigint): boolean {
  const vm = nv.vcpu.vm;
  for (let i = 0n; i < count; i++) {
    const at = gpa + i * 16n;
    if (!vm.memory.isMapped(at, 16)) return false;
    const index = Number(readLe(vm.memory.read(at, 4), 0, 4));
    const value = nv.vcpu.kvmGetMsr(index);
    if (value === undefined) return false;
    vm.kvmWriteGuest(at + 8n, leBytes(8, value));
  }
  return true;
}
