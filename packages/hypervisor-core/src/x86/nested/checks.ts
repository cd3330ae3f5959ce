/**
 * The VM-entry consistency checks KVM makes in software before a nested entry
 * (nested_vmx_check_controls(), nested_vmx_check_host_state(), nested_vmx_check_guest_state() in
 * arch/x86/kvm/vmx/nested.c of v5.4; SDM vol. 3 §26.2–§26.3), in the kernel's order. Controls
 * and host state fail the instruction (VMfailValid 7 / 8); guest state fails the entry (an exit
 * with bit 31 set in the exit reason).
 */
import {
  CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, CPU_BASED_MONITOR_TRAP_FLAG, CPU_BASED_TPR_SHADOW, CPU_BASED_USE_IO_BITMAPS, CPU_BASED_USE_MSR_BITMAPS,
  CPU_BASED_VIRTUAL_NMI_PENDING, ENTRY_FAIL_DEFAULT, ENTRY_FAIL_VMCS_LINK_PTR, GUEST_ACTIVITY_ACTIVE, GUEST_ACTIVITY_HLT,
  INTR_INFO_DELIVER_CODE_MASK, INTR_INFO_INTR_TYPE_MASK, INTR_INFO_RESVD_BITS_MASK, INTR_INFO_VALID_MASK,
  INTR_INFO_VECTOR_MASK, INTR_TYPE_HARD_EXCEPTION, INTR_TYPE_NMI_INTR, INTR_TYPE_OTHER_EVENT, INTR_TYPE_PRIV_SW_EXCEPTION,
  INTR_TYPE_RESERVED, INTR_TYPE_SOFT_EXCEPTION, INTR_TYPE_SOFT_INTR, NMI_VECTOR, PIN_BASED_NMI_EXITING,
  PIN_BASED_VIRTUAL_NMIS, PIN_BASED_VMX_PREEMPTION_TIMER, SECONDARY_EXEC_ENABLE_EPT, SECONDARY_EXEC_ENABLE_PML,
  SECONDARY_EXEC_ENABLE_VPID, SECONDARY_EXEC_SHADOW_VMCS, SECONDARY_EXEC_UNRESTRICTED_GUEST,
  SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES, SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE, VM_ENTRY_IA32E_MODE,
  VM_ENTRY_LOAD_BNDCFGS, VM_ENTRY_LOAD_IA32_EFER, VM_ENTRY_LOAD_IA32_PAT, VM_EXIT_HOST_ADDR_SPACE_SIZE,
  VM_EXIT_LOAD_IA32_EFER, VM_EXIT_LOAD_IA32_PAT, VM_EXIT_SAVE_VMX_PREEMPTION_TIMER, VMX_EPT_AD_BIT, VMX_EPTP_UC_BIT,
  VMX_EPTP_WB_BIT,
} from '../vmx-controls.js';
import { readLe } from '../../bigint.js';
import * as F from '../vmcs-fields.js';
import { VMX_EPTP_AD_ENABLE_BIT, VMX_EPTP_MT_WB, VMX_EPTP_PWL_4 } from '../ept.js';
import { EFER_LMA, EFER_LME, X86_CR0_PE, X86_CR0_PG, X86_CR4_PAE, X86_CR4_PCIDE } from '../x86-regs.js';
import { MAXPHYADDR } from './kvm-constants.js';
import type { NestedVcpuState } from './shapes.js';
import type { Vmcs12 } from './vmcs12.js';
import { fixedBitsValid, vmxControlVerify } from './vmx-msrs.js';
import { VMCS12_REVISION } from './vmcs12-layout.js';

const maxPhysMask = (1n << BigInt(MAXPHYADDR)) - 1n;

/** models page_address_valid() (nested.c): 4 KiB aligned and below MAXPHYADDR — backing is not checked. */
export const pageAddressValid = (gpa: bigint): boolean => (gpa & 0xfffn) === 0n && (gpa & ~maxPhysMask) === 0n;

/** models nested_cr3_valid() (nested.c): no bits above MAXPHYADDR. */
export const nestedCr3Valid = (cr3: bigint): boolean => (cr3 & ~maxPhysMask) === 0n;

/** is_noncanonical_address() with 48-bit linear addresses (x86.h; CR4.LA57 is never set here). */
const isNoncanonical = (la: bigint): boolean => BigInt.asIntN(48, la) !== BigInt.asIntN(64, la);

/** kvm_pat_valid() (x86.h): every entry is a memory type 0, 1, 4, 5, 6 or 7. */
const patValid = (pat: bigint): boolean =>
  (pat & 0xf8f8_f8f8_f8f8_f8f8n) === 0n && (pat | ((pat & 0x0202_0202_0202_0202n) << 1n)) === pat;

/** kvm_valid_efer(): SCE, LME, LMA and NXE are the EFER bits the model's guests may set. */
const eferValid = (efer: bigint): boolean => (efer & ~0xd01n) === 0n;

/** nested_cpu_has2(): a secondary control counts only with ACTIVATE_SECONDARY_CONTROLS. */
export const nestedCpuHas2 = (v12: Vmcs12, bit: number): boolean =>
  v12.has(F.CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_ACTIVATE_SECONDARY_CONTROLS) && v12.has(F.SECONDARY_VM_EXEC_CONTROL, bit);

export const nestedCpuHasEpt = (v12: Vmcs12): boolean => nestedCpuHas2(v12, SECONDARY_EXEC_ENABLE_EPT);

/** models valid_ept_address() (nested.c): a memory type and features L1 was offered, 4 levels, no reserved bits. */
export function validEptAddress(nv: NestedVcpuState, eptp: bigint): boolean {
  const caps = nv.engine.msrs.eptCaps;
  const mt = eptp & 7n;
  if (mt === 0n) {
    if ((caps & VMX_EPTP_UC_BIT) === 0n) return false;
  } else if (mt === VMX_EPTP_MT_WB) {
    if ((caps & VMX_EPTP_WB_BIT) === 0n) return false;
  } else {
    return false;
  }
  if ((eptp & (7n << 3n)) !== VMX_EPTP_PWL_4) return false;
  if ((eptp >> BigInt(MAXPHYADDR)) !== 0n || ((eptp >> 7n) & 0x1fn) !== 0n) return false;
  return (eptp & VMX_EPTP_AD_ENABLE_BIT) === 0n || (caps & VMX_EPT_AD_BIT) !== 0n;
}

/** nested_vmx_check_msr_switch(): a count of 16-byte entries at a 16-byte aligned, in-range address. */
function msrSwitchValid(count: bigint, addr: bigint): boolean {
  if (count === 0n) return true;
  return (addr & 15n) === 0n && ((addr + count * 16n - 1n) & ~maxPhysMask) === 0n;
}

function executionControlsValid(nv: NestedVcpuState, v12: Vmcs12): boolean {
  const m = nv.engine.msrs;
  const pin = v12.get(F.PIN_BASED_VM_EXEC_CONTROL);
  const exec = v12.get(F.CPU_BASED_VM_EXEC_CONTROL);
  if (!vmxControlVerify(pin, m.pinbasedLow, m.pinbasedHigh) || !vmxControlVerify(exec, m.procbasedLow, m.procbasedHigh)) return false;
  if ((exec & BigInt(CPU_BASED_ACTIVATE_SECONDARY_CONTROLS >>> 0)) !== 0n &&
    !vmxControlVerify(v12.get(F.SECONDARY_VM_EXEC_CONTROL), m.secondaryLow, m.secondaryHigh)) return false;
  const has = (bit: number): boolean => (exec & BigInt(bit >>> 0)) !== 0n;
  const has2 = (bit: number): boolean => nestedCpuHas2(v12, bit);
  // CR3-target count against IA32_VMX_MISC bits 24:16, which KVM reports as 0.
  if (v12.get(F.CR3_TARGET_COUNT) > BigInt((m.miscLow >>> 16) & 0x1ff)) return false;
  if (has(CPU_BASED_USE_IO_BITMAPS) && (!pageAddressValid(v12.get(F.IO_BITMAP_A)) || !pageAddressValid(v12.get(F.IO_BITMAP_B)))) return false;
  if (has(CPU_BASED_USE_MSR_BITMAPS) && !pageAddressValid(v12.get(F.MSR_BITMAP))) return false;
  if (has(CPU_BASED_TPR_SHADOW) && !pageAddressValid(v12.get(F.VIRTUAL_APIC_PAGE_ADDR))) return false;
  // Stryker disable next-line all: unreachable while MODEL_HOST_CPU.flexpriority is false — the control is not offered, so vmxControlVerify() above already refused it
  if (has2(SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES) && !pageAddressValid(v12.get(F.APIC_ACCESS_ADDR))) return false;
  if (has2(SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE) &&
    (has2(SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES) || !has(CPU_BASED_TPR_SHADOW))) return false; // apicv controls
  const nmiExiting = (pin & BigInt(PIN_BASED_NMI_EXITING)) !== 0n;
  const virtualNmis = (pin & BigInt(PIN_BASED_VIRTUAL_NMIS)) !== 0n;
  if ((!nmiExiting && virtualNmis) || (!virtualNmis && has(CPU_BASED_VIRTUAL_NMI_PENDING))) return false;
  if (has2(SECONDARY_EXEC_ENABLE_PML) && (!nestedCpuHasEpt(v12) || !pageAddressValid(v12.get(F.PML_ADDRESS)))) return false;
  if (has2(SECONDARY_EXEC_UNRESTRICTED_GUEST) && !nestedCpuHasEpt(v12)) return false;
  if (has2(SECONDARY_EXEC_SHADOW_VMCS) && (!pageAddressValid(v12.get(F.VMREAD_BITMAP)) || !pageAddressValid(v12.get(F.VMWRITE_BITMAP)))) return false;
  if (has2(SECONDARY_EXEC_ENABLE_VPID) && v12.get(F.VIRTUAL_PROCESSOR_ID) === 0n) return false;
  if ((pin & BigInt(PIN_BASED_VMX_PREEMPTION_TIMER)) === 0n && v12.has(F.VM_EXIT_CONTROLS, VM_EXIT_SAVE_VMX_PREEMPTION_TIMER)) return false;
  return !nestedCpuHasEpt(v12) || validEptAddress(nv, v12.get(F.EPT_POINTER));
}

/** The event-injection fields (SDM §26.2.1.3), as nested_check_vm_entry_controls() checks them. */
function entryEventValid(nv: NestedVcpuState, v12: Vmcs12): boolean {
  const info = Number(v12.get(F.VM_ENTRY_INTR_INFO_FIELD));
  if ((info & INTR_INFO_VALID_MASK) === 0) return true;
  const vector = info & INTR_INFO_VECTOR_MASK;
  const type = info & INTR_INFO_INTR_TYPE_MASK;
  const hasError = (info & INTR_INFO_DELIVER_CODE_MASK) !== 0;
  const urg = nestedCpuHas2(v12, SECONDARY_EXEC_UNRESTRICTED_GUEST);
  const protMode = !urg || (v12.get(F.GUEST_CR0) & X86_CR0_PE) !== 0n;
  const mtf = (nv.engine.msrs.procbasedHigh & CPU_BASED_MONITOR_TRAP_FLAG) !== 0;
  if (type === INTR_TYPE_RESERVED || (type === INTR_TYPE_OTHER_EVENT && !mtf)) return false;
  if ((type === INTR_TYPE_NMI_INTR && vector !== NMI_VECTOR) || (type === INTR_TYPE_HARD_EXCEPTION && vector > 31) ||
    (type === INTR_TYPE_OTHER_EVENT && vector !== 0)) return false;
  // x86_exception_has_error_code(): #DF, #TS, #NP, #SS, #GP, #PF, #AC
  const errorVector = [8, 10, 11, 12, 13, 14, 17].includes(vector);
  if (hasError !== (type === INTR_TYPE_HARD_EXCEPTION && protMode && errorVector)) return false;
  if (hasError && (v12.get(F.VM_ENTRY_EXCEPTION_ERROR_CODE) & 0xffff_0000n) !== 0n) return false;
  if ((info & INTR_INFO_RESVD_BITS_MASK) !== 0) return false;
  if (type === INTR_TYPE_SOFT_EXCEPTION || type === INTR_TYPE_SOFT_INTR || type === INTR_TYPE_PRIV_SW_EXCEPTION) {
    const len = v12.get(F.VM_ENTRY_INSTRUCTION_LEN);
    if (len > 15n || len === 0n) return false; // zero-length injection is not offered (VMX_MISC bit 30)
  }
  return true;
}

/** models nested_vmx_check_controls() (nested.c). */
export function nestedVmxCheckControls(nv: NestedVcpuState, v12: Vmcs12): boolean {
  const m = nv.engine.msrs;
  if (!executionControlsValid(nv, v12)) return false;
  if (!vmxControlVerify(v12.get(F.VM_EXIT_CONTROLS), m.exitLow, m.exitHigh) ||
    !msrSwitchValid(v12.get(F.VM_EXIT_MSR_STORE_COUNT), v12.get(F.VM_EXIT_MSR_STORE_ADDR)) ||
    !msrSwitchValid(v12.get(F.VM_EXIT_MSR_LOAD_COUNT), v12.get(F.VM_EXIT_MSR_LOAD_ADDR))) return false;
  if (!vmxControlVerify(v12.get(F.VM_ENTRY_CONTROLS), m.entryLow, m.entryHigh) || !entryEventValid(nv, v12)) return false;
  return msrSwitchValid(v12.get(F.VM_ENTRY_MSR_LOAD_COUNT), v12.get(F.VM_ENTRY_MSR_LOAD_ADDR));
}

const selectorBad = (sel: bigint): boolean => (sel & 7n) !== 0n; // RPL or TI set

/** models nested_vmx_check_host_state() (nested.c). `ia32e`: L1's EFER.LMA. */
export function nestedVmxCheckHostState(nv: NestedVcpuState, v12: Vmcs12): boolean {
  const m = nv.engine.msrs;
  const exit = v12.get(F.VM_EXIT_CONTROLS);
  const exitHas = (bit: number): boolean => (exit & BigInt(bit >>> 0)) !== 0n;
  if (!fixedBitsValid(v12.get(F.HOST_CR0), m.cr0Fixed0, m.cr0Fixed1) || !fixedBitsValid(v12.get(F.HOST_CR4), m.cr4Fixed0, m.cr4Fixed1) ||
    !nestedCr3Valid(v12.get(F.HOST_CR3))) return false;
  if (isNoncanonical(v12.get(F.HOST_IA32_SYSENTER_ESP)) || isNoncanonical(v12.get(F.HOST_IA32_SYSENTER_EIP))) return false;
  if (exitHas(VM_EXIT_LOAD_IA32_PAT) && !patValid(v12.get(F.HOST_IA32_PAT))) return false;
  const ia32e = (nv.vcpu.x86.efer & EFER_LMA) !== 0n;
  if (ia32e) {
    if (!exitHas(VM_EXIT_HOST_ADDR_SPACE_SIZE) || (v12.get(F.HOST_CR4) & X86_CR4_PAE) === 0n) return false;
  } else if (exitHas(VM_EXIT_HOST_ADDR_SPACE_SIZE) || v12.has(F.VM_ENTRY_CONTROLS, VM_ENTRY_IA32E_MODE) ||
    (v12.get(F.HOST_CR4) & X86_CR4_PCIDE) !== 0n || (v12.get(F.HOST_RIP) >> 32n) !== 0n) {
    return false;
  }
  const sels = [F.HOST_CS_SELECTOR, F.HOST_SS_SELECTOR, F.HOST_DS_SELECTOR, F.HOST_ES_SELECTOR, F.HOST_FS_SELECTOR, F.HOST_GS_SELECTOR, F.HOST_TR_SELECTOR];
  if (sels.some((s) => selectorBad(v12.get(s))) || v12.get(F.HOST_CS_SELECTOR) === 0n || v12.get(F.HOST_TR_SELECTOR) === 0n ||
    (v12.get(F.HOST_SS_SELECTOR) === 0n && !ia32e)) return false;
  const bases = [F.HOST_FS_BASE, F.HOST_GS_BASE, F.HOST_GDTR_BASE, F.HOST_IDTR_BASE, F.HOST_TR_BASE, F.HOST_RIP];
  if (bases.some((b) => isNoncanonical(v12.get(b)))) return false;
  if (exitHas(VM_EXIT_LOAD_IA32_EFER)) {
    const efer = v12.get(F.HOST_IA32_EFER);
    if (!eferValid(efer) || ia32e !== ((efer & EFER_LMA) !== 0n) || ia32e !== ((efer & EFER_LME) !== 0n)) return false;
  }
  return true;
}

/** models nested_vmx_check_vmcs_link_ptr() (nested.c): -1, or a page holding a VMCS of the right kind. */
function vmcsLinkPtrValid(nv: NestedVcpuState, v12: Vmcs12): boolean {
  const link = v12.get(F.VMCS_LINK_POINTER);
  if (link === 0xffff_ffff_ffff_ffffn) return true;
  if (!pageAddressValid(link)) return false;
  const mem = nv.vcpu.vm.memory;
  if (!mem.isMapped(link, 4)) return false; // kvm_vcpu_map() fails
  const hdr = Number(readLe(mem.read(link, 4), 0, 4));
  return (hdr & 0x7fff_ffff) === VMCS12_REVISION && ((hdr >>> 31) === 1) === nestedCpuHas2(v12, SECONDARY_EXEC_SHADOW_VMCS);
}

/** models nested_vmx_check_guest_state() (nested.c): null if fine, else the exit qualification of the failed entry. */
export function nestedVmxCheckGuestState(nv: NestedVcpuState, v12: Vmcs12): number | null {
  const m = nv.engine.msrs;
  let cr0Fixed0 = m.cr0Fixed0;
  if ((m.secondaryHigh & SECONDARY_EXEC_UNRESTRICTED_GUEST) !== 0 && nestedCpuHas2(v12, SECONDARY_EXEC_UNRESTRICTED_GUEST)) {
    cr0Fixed0 &= ~(X86_CR0_PE | X86_CR0_PG);
  }
  const entry = v12.get(F.VM_ENTRY_CONTROLS);
  const entryHas = (bit: number): boolean => (entry & BigInt(bit >>> 0)) !== 0n;
  if (!fixedBitsValid(v12.get(F.GUEST_CR0), cr0Fixed0, m.cr0Fixed1) || !fixedBitsValid(v12.get(F.GUEST_CR4), m.cr4Fixed0, m.cr4Fixed1)) return ENTRY_FAIL_DEFAULT;
  if (entryHas(VM_ENTRY_LOAD_IA32_PAT) && !patValid(v12.get(F.GUEST_IA32_PAT))) return ENTRY_FAIL_DEFAULT;
  if (!vmcsLinkPtrValid(nv, v12)) return ENTRY_FAIL_VMCS_LINK_PTR;
  if (nv.nestedRunPending && entryHas(VM_ENTRY_LOAD_IA32_EFER)) {
    const efer = v12.get(F.GUEST_IA32_EFER);
    const ia32e = entryHas(VM_ENTRY_IA32E_MODE);
    if (!eferValid(efer) || ia32e !== ((efer & EFER_LMA) !== 0n) ||
      ((v12.get(F.GUEST_CR0) & X86_CR0_PG) !== 0n && ia32e !== ((efer & EFER_LME) !== 0n))) return ENTRY_FAIL_DEFAULT;
  }
  // Stryker disable all: unreachable — VM_ENTRY_LOAD_BNDCFGS is not in the entry controls the model offers L1 (no MPX), so the control check refused it before the guest-state checks
  if (entryHas(VM_ENTRY_LOAD_BNDCFGS) && (isNoncanonical(v12.get(F.GUEST_BNDCFGS) & ~0xfffn) || (v12.get(F.GUEST_BNDCFGS) & 0xffcn) !== 0n)) {
    return ENTRY_FAIL_DEFAULT;
  }
  // Stryker restore all
  const activity = Number(v12.get(F.GUEST_ACTIVITY_STATE));
  if (activity !== GUEST_ACTIVITY_ACTIVE && activity !== GUEST_ACTIVITY_HLT) return ENTRY_FAIL_DEFAULT;
  return null;
}
