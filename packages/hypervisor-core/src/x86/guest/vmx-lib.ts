/**
 * What an L1 does to get into VMX operation and to describe an L2, with only guest instructions:
 * the kvm selftests' library in our words (tools/testing/selftests/kvm/lib/x86_64/vmx.c of v5.4:
 * prepare_for_vmx_operation(), load_vmcs(), init_vmcs_control_fields(), init_vmcs_host_state(),
 * init_vmcs_guest_state()). Controls start from the default1 bits of the VMX capability MSRs, as
 * the library's do; callers add the bits they want.
 */
import { leBytes } from '../../bigint.js';
import type { Vcpu } from '../../vcpu/vcpu.js';
import * as F from '../vmcs-fields.js';
import {
  CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, SECONDARY_EXEC_ENABLE_EPT, VM_ENTRY_IA32E_MODE, VM_EXIT_HOST_ADDR_SPACE_SIZE,
} from '../vmx-controls.js';
import {
  FEATURE_CONTROL_LOCKED, FEATURE_CONTROL_VMXON_ENABLED_OUTSIDE_SMX, MSR_IA32_FEATURE_CONTROL, MSR_IA32_VMX_BASIC,
  MSR_IA32_VMX_CR0_FIXED0, MSR_IA32_VMX_CR0_FIXED1, MSR_IA32_VMX_CR4_FIXED0, MSR_IA32_VMX_CR4_FIXED1, MSR_IA32_VMX_ENTRY_CTLS,
  MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS, X86_CR4_VMXE, X86_EFLAGS_FIXED,
} from '../x86-regs.js';
import { vmclear, vmptrld, vmwrite, vmxon } from './vmx.js';

/** The flat 64-bit descriptor layout of the model's L1s (that of the kvm selftests' VMs): selectors and bases. */
export const L1_DESCRIPTORS = {
  cs: 0x08n, ds: 0x10n, es: 0x10n, ss: 0x10n, fs: 0n, gs: 0n, tr: 0x18n,
  gdtBase: 0x0000_1000n, idtBase: 0x0000_2000n, trBase: 0x0000_3000n,
} as const;

const NO_LINK = 0xffff_ffff_ffff_ffffn;
const low32 = (v: bigint | undefined): bigint => (v ?? 0n) & 0xffff_ffffn;

/** RDMSR; a missing MSR reads as 0 here (the caller's VMX set-up then fails visibly). */
const rdmsr = (vcpu: Vcpu, index: number): bigint => vcpu.rdmsr(index) ?? 0n;

/** models prepare_for_vmx_operation(): CR0/CR4 within the VMX fixed bits, CR4.VMXE, IA32_FEATURE_CONTROL, VMXON. */
export function prepareForVmxOperation(vcpu: Vcpu, vmxonGpa: bigint): boolean {
  const cr0 = (vcpu.x86.cr0 & rdmsr(vcpu, MSR_IA32_VMX_CR0_FIXED1)) | rdmsr(vcpu, MSR_IA32_VMX_CR0_FIXED0);
  if (!vcpu.movToCr(0, cr0)) return false;
  const cr4 = ((vcpu.x86.cr4 & rdmsr(vcpu, MSR_IA32_VMX_CR4_FIXED1)) | rdmsr(vcpu, MSR_IA32_VMX_CR4_FIXED0)) | X86_CR4_VMXE;
  if (!vcpu.movToCr(4, cr4)) return false;
  const required = FEATURE_CONTROL_VMXON_ENABLED_OUTSIDE_SMX | FEATURE_CONTROL_LOCKED;
  const fc = rdmsr(vcpu, MSR_IA32_FEATURE_CONTROL);
  if ((fc & required) !== required && !vcpu.wrmsr(MSR_IA32_FEATURE_CONTROL, fc | required)) return false;
  vcpu.write(vmxonGpa, leBytes(4, vmcsRevision(vcpu)));
  return vmxon(vcpu, vmxonGpa).status === 'ok';
}

/** vmcs_revision(): IA32_VMX_BASIC bits 30:0. */
export const vmcsRevision = (vcpu: Vcpu): bigint => rdmsr(vcpu, MSR_IA32_VMX_BASIC) & 0x7fff_ffffn;

/** models load_vmcs(): the revision into the region, VMCLEAR, VMPTRLD. */
export function loadVmcs(vcpu: Vcpu, vmcs: bigint): boolean {
  vcpu.write(vmcs, leBytes(4, vmcsRevision(vcpu)));
  return vmclear(vcpu, vmcs).status === 'ok' && vmptrld(vcpu, vmcs).status === 'ok';
}

/** What an L2 is, beyond the library's defaults. */
export interface VmcsSetup {
  readonly guestRip: bigint;
  readonly guestRsp?: bigint;
  /** EPTP12: EPT on (with these tables) if given. */
  readonly eptp?: bigint;
  /** Bits added to the default1 controls. */
  readonly pin?: number;
  readonly primary?: number;
  readonly secondary?: number;
  readonly exit?: number;
  readonly entry?: number;
  /** L2's CR3 (default: L1's, as the selftests' L2s share it). */
  readonly guestCr3?: bigint;
  readonly guestRflags?: bigint;
  readonly activity?: number;
  readonly preemptionTimer?: bigint;
  /** HOST_CR3 (default: L1's own). */
  readonly hostCr3?: bigint;
}

/** VMWRITEs of `fields` in order; false at the first that does not succeed. */
function writeAll(vcpu: Vcpu, fields: readonly (readonly [number, bigint])[]): boolean {
  for (const [f, v] of fields) if (vmwrite(vcpu, f, v).status !== 'ok') return false;
  return true;
}

/** models init_vmcs_control_fields() + init_vmcs_host_state() + init_vmcs_guest_state() on the current VMCS. */
export function prepareVmcs(vcpu: Vcpu, s: VmcsSetup): boolean {
  const x = vcpu.x86;
  const d = L1_DESCRIPTORS;
  const secondary = (s.eptp !== undefined ? SECONDARY_EXEC_ENABLE_EPT : 0) | (s.secondary ?? 0);
  const controls: (readonly [number, bigint])[] = [
    [F.VIRTUAL_PROCESSOR_ID, 0n],
    [F.PIN_BASED_VM_EXEC_CONTROL, low32(vcpu.rdmsr(MSR_IA32_VMX_TRUE_PINBASED_CTLS)) | BigInt((s.pin ?? 0) >>> 0)],
    [F.SECONDARY_VM_EXEC_CONTROL, BigInt(secondary >>> 0)],
    [F.CPU_BASED_VM_EXEC_CONTROL, low32(vcpu.rdmsr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS)) | BigInt(((s.primary ?? 0) | CPU_BASED_ACTIVATE_SECONDARY_CONTROLS) >>> 0)],
    [F.EXCEPTION_BITMAP, 0n],
    [F.PAGE_FAULT_ERROR_CODE_MASK, 0n],
    [F.PAGE_FAULT_ERROR_CODE_MATCH, 0xffff_ffffn],
    [F.CR3_TARGET_COUNT, 0n],
    [F.VM_EXIT_CONTROLS, low32(vcpu.rdmsr(MSR_IA32_VMX_EXIT_CTLS)) | BigInt((VM_EXIT_HOST_ADDR_SPACE_SIZE | (s.exit ?? 0)) >>> 0)],
    [F.VM_EXIT_MSR_STORE_COUNT, 0n],
    [F.VM_EXIT_MSR_LOAD_COUNT, 0n],
    [F.VM_ENTRY_CONTROLS, low32(vcpu.rdmsr(MSR_IA32_VMX_ENTRY_CTLS)) | BigInt((VM_ENTRY_IA32E_MODE | (s.entry ?? 0)) >>> 0)],
    [F.VM_ENTRY_MSR_LOAD_COUNT, 0n],
    [F.VM_ENTRY_INTR_INFO_FIELD, 0n],
    [F.TPR_THRESHOLD, 0n],
    [F.CR0_GUEST_HOST_MASK, 0n],
    [F.CR4_GUEST_HOST_MASK, 0n],
    [F.CR0_READ_SHADOW, x.cr0],
    [F.CR4_READ_SHADOW, x.cr4],
  ];
  if (s.eptp !== undefined) controls.push([F.EPT_POINTER, s.eptp]);
  const host: (readonly [number, bigint])[] = [
    [F.HOST_ES_SELECTOR, d.es], [F.HOST_CS_SELECTOR, d.cs], [F.HOST_SS_SELECTOR, d.ss], [F.HOST_DS_SELECTOR, d.ds],
    [F.HOST_FS_SELECTOR, d.fs], [F.HOST_GS_SELECTOR, d.gs], [F.HOST_TR_SELECTOR, d.tr], [F.HOST_IA32_SYSENTER_CS, 0n],
    [F.HOST_CR0, x.cr0], [F.HOST_CR3, s.hostCr3 ?? x.cr3], [F.HOST_CR4, x.cr4], [F.HOST_FS_BASE, 0n], [F.HOST_GS_BASE, 0n],
    [F.HOST_TR_BASE, d.trBase], [F.HOST_GDTR_BASE, d.gdtBase], [F.HOST_IDTR_BASE, d.idtBase],
    [F.HOST_IA32_SYSENTER_ESP, 0n], [F.HOST_IA32_SYSENTER_EIP, 0n],
  ];
  const guest: (readonly [number, bigint])[] = [
    [F.GUEST_ES_SELECTOR, d.es], [F.GUEST_CS_SELECTOR, d.cs], [F.GUEST_SS_SELECTOR, d.ss], [F.GUEST_DS_SELECTOR, d.ds],
    [F.GUEST_FS_SELECTOR, d.fs], [F.GUEST_GS_SELECTOR, d.gs], [F.GUEST_LDTR_SELECTOR, 0n], [F.GUEST_TR_SELECTOR, d.tr],
    [F.GUEST_INTR_STATUS, 0n], [F.GUEST_PML_INDEX, 0n], [F.VMCS_LINK_POINTER, NO_LINK], [F.GUEST_IA32_DEBUGCTL, 0n],
    [F.GUEST_ES_LIMIT, 0xffff_ffffn], [F.GUEST_CS_LIMIT, 0xffff_ffffn], [F.GUEST_SS_LIMIT, 0xffff_ffffn],
    [F.GUEST_DS_LIMIT, 0xffff_ffffn], [F.GUEST_FS_LIMIT, 0xffff_ffffn], [F.GUEST_GS_LIMIT, 0xffff_ffffn],
    [F.GUEST_LDTR_LIMIT, 0xffff_ffffn], [F.GUEST_TR_LIMIT, 0x67n], [F.GUEST_GDTR_LIMIT, 0xffffn], [F.GUEST_IDTR_LIMIT, 0xffffn],
    [F.GUEST_ES_AR_BYTES, 0xc093n], [F.GUEST_CS_AR_BYTES, 0xa09bn], [F.GUEST_SS_AR_BYTES, 0xc093n], [F.GUEST_DS_AR_BYTES, 0xc093n],
    [F.GUEST_FS_AR_BYTES, 0x10000n], [F.GUEST_GS_AR_BYTES, 0x10000n], [F.GUEST_LDTR_AR_BYTES, 0x10000n], [F.GUEST_TR_AR_BYTES, 0x8bn],
    [F.GUEST_INTERRUPTIBILITY_INFO, 0n], [F.GUEST_ACTIVITY_STATE, BigInt(s.activity ?? 0)], [F.GUEST_SYSENTER_CS, 0n],
    [F.VMX_PREEMPTION_TIMER_VALUE, s.preemptionTimer ?? 0n], [F.GUEST_CR0, x.cr0], [F.GUEST_CR3, s.guestCr3 ?? x.cr3],
    [F.GUEST_CR4, x.cr4], [F.GUEST_ES_BASE, 0n], [F.GUEST_CS_BASE, 0n], [F.GUEST_SS_BASE, 0n], [F.GUEST_DS_BASE, 0n],
    [F.GUEST_FS_BASE, 0n], [F.GUEST_GS_BASE, 0n], [F.GUEST_LDTR_BASE, 0n], [F.GUEST_TR_BASE, d.trBase],
    [F.GUEST_GDTR_BASE, d.gdtBase], [F.GUEST_IDTR_BASE, d.idtBase], [F.GUEST_DR7, 0x400n], [F.GUEST_RSP, s.guestRsp ?? 0n],
    [F.GUEST_RIP, s.guestRip], [F.GUEST_RFLAGS, s.guestRflags ?? X86_EFLAGS_FIXED], [F.GUEST_PENDING_DBG_EXCEPTIONS, 0n],
    [F.GUEST_SYSENTER_ESP, 0n], [F.GUEST_SYSENTER_EIP, 0n],
  ];
  return writeAll(vcpu, controls) && writeAll(vcpu, host) && writeAll(vcpu, guest);
}
