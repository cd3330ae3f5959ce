/**
 * The VMX capability MSRs KVM offers L1 (nested_vmx_setup_ctls_msrs() and vmx_get_vmx_msr() in
 * arch/x86/kvm/vmx/nested.c of v5.4), computed from the module parameters and the model's host
 * CPU (params.ts). Each control MSR has a low half (bits that must be 1: "default1") and a high
 * half (bits that may be 1: "allowed1"); VM entry checks vmcs12's controls against them with
 * vmx_control_verify(). The guest CPUID the model exposes has none of XSAVES, RDTSCP, INVPCID,
 * RDRAND and RDSEED, so vmx_compute_secondary_exec_control() leaves those controls out.
 */
import {
  CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, CPU_BASED_ALWAYSON_WITHOUT_TRUE_MSR, CPU_BASED_CR3_LOAD_EXITING,
  CPU_BASED_CR3_STORE_EXITING, CPU_BASED_CR8_LOAD_EXITING, CPU_BASED_CR8_STORE_EXITING, CPU_BASED_HLT_EXITING,
  CPU_BASED_INVLPG_EXITING, CPU_BASED_MONITOR_EXITING, CPU_BASED_MONITOR_TRAP_FLAG, CPU_BASED_MOV_DR_EXITING,
  CPU_BASED_MWAIT_EXITING, CPU_BASED_PAUSE_EXITING, CPU_BASED_RDPMC_EXITING, CPU_BASED_RDTSC_EXITING,
  CPU_BASED_TPR_SHADOW, CPU_BASED_UNCOND_IO_EXITING, CPU_BASED_USE_IO_BITMAPS, CPU_BASED_USE_MSR_BITMAPS,
  CPU_BASED_USE_TSC_OFFSETING, CPU_BASED_VIRTUAL_INTR_PENDING, CPU_BASED_VIRTUAL_NMI_PENDING,
  MSR_IA32_VMX_MISC_VMWRITE_SHADOW_RO_FIELDS, PIN_BASED_ALWAYSON_WITHOUT_TRUE_MSR, PIN_BASED_EXT_INTR_MASK,
  PIN_BASED_NMI_EXITING, PIN_BASED_POSTED_INTR, PIN_BASED_VIRTUAL_NMIS, PIN_BASED_VMX_PREEMPTION_TIMER,
  SECONDARY_EXEC_DESC, SECONDARY_EXEC_ENABLE_EPT, SECONDARY_EXEC_ENABLE_PML, SECONDARY_EXEC_ENABLE_VPID,
  SECONDARY_EXEC_SHADOW_VMCS, SECONDARY_EXEC_UNRESTRICTED_GUEST, SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES,
  SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE, SECONDARY_EXEC_WBINVD_EXITING, VM_ENTRY_ALWAYSON_WITHOUT_TRUE_MSR,
  VM_ENTRY_IA32E_MODE, VM_ENTRY_LOAD_DEBUG_CONTROLS, VM_ENTRY_LOAD_IA32_EFER, VM_ENTRY_LOAD_IA32_PAT,
  VM_EXIT_ACK_INTR_ON_EXIT, VM_EXIT_ALWAYSON_WITHOUT_TRUE_MSR, VM_EXIT_HOST_ADDR_SPACE_SIZE, VM_EXIT_LOAD_IA32_EFER,
  VM_EXIT_LOAD_IA32_PAT, VM_EXIT_SAVE_DEBUG_CONTROLS, VM_EXIT_SAVE_IA32_EFER, VM_EXIT_SAVE_IA32_PAT,
  VM_EXIT_SAVE_VMX_PREEMPTION_TIMER, VMX_BASIC_INOUT, VMX_BASIC_MEM_TYPE_SHIFT, VMX_BASIC_MEM_TYPE_WB,
  VMX_BASIC_TRUE_CTLS, VMX_BASIC_VMCS_SIZE_SHIFT, VMX_EPT_1GB_PAGE_BIT, VMX_EPT_2MB_PAGE_BIT, VMX_EPT_AD_BIT,
  VMX_EPT_EXECUTE_ONLY_BIT, VMX_EPT_EXTENT_CONTEXT_BIT, VMX_EPT_EXTENT_GLOBAL_BIT, VMX_EPT_INVEPT_BIT,
  VMX_EPT_PAGE_WALK_4_BIT, VMX_EPTP_WB_BIT, VMX_MISC_ACTIVITY_HLT, VMX_MISC_EMULATED_PREEMPTION_TIMER_RATE,
  VMX_MISC_SAVE_EFER_LMA, VMX_VPID_EXTENT_SUPPORTED_MASK, VMX_VPID_INVVPID_BIT,
} from '../vmx-controls.js';
import {
  MSR_IA32_VMX_BASIC, MSR_IA32_VMX_CR0_FIXED0, MSR_IA32_VMX_CR0_FIXED1, MSR_IA32_VMX_CR4_FIXED0,
  MSR_IA32_VMX_CR4_FIXED1, MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_EPT_VPID_CAP, MSR_IA32_VMX_EXIT_CTLS,
  MSR_IA32_VMX_MISC, MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_PROCBASED_CTLS2,
  MSR_IA32_VMX_TRUE_ENTRY_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS,
  MSR_IA32_VMX_TRUE_PROCBASED_CTLS, MSR_IA32_VMX_VMCS_ENUM, MSR_IA32_VMX_VMFUNC, X86_CR0_NE, X86_CR0_PE,
  X86_CR0_PG, X86_CR4_VMXE,
} from '../x86-regs.js';
import { MODEL_HOST_CPU, type KvmIntelParams } from './params.js';
import { VMCS12_MAX_FIELD_INDEX, VMCS12_REVISION, VMCS12_SIZE } from './vmcs12-layout.js';

/** struct nested_vmx_msrs (vmx/vmx.h): what L1 reads, and what VM entry checks against. */
export interface NestedVmxMsrs {
  readonly pinbasedLow: number;
  readonly pinbasedHigh: number;
  readonly procbasedLow: number;
  readonly procbasedHigh: number;
  readonly secondaryLow: number;
  readonly secondaryHigh: number;
  readonly exitLow: number;
  readonly exitHigh: number;
  readonly entryLow: number;
  readonly entryHigh: number;
  readonly miscLow: number;
  readonly miscHigh: number;
  readonly eptCaps: bigint;
  readonly vpidCaps: number;
  readonly vmfuncControls: bigint;
  readonly basic: bigint;
  readonly cr0Fixed0: bigint;
  readonly cr0Fixed1: bigint;
  readonly cr4Fixed0: bigint;
  readonly cr4Fixed1: bigint;
  readonly vmcsEnum: bigint;
}

const u32 = (x: number): number => x >>> 0;

/** models nested_vmx_setup_ctls_msrs() + vmx_compute_secondary_exec_control()'s nested part. */
export function nestedVmxSetupCtlsMsrs(p: KvmIntelParams): NestedVmxMsrs {
  const apicv = MODEL_HOST_CPU.apicv;
  const pinbasedHigh = (PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING | PIN_BASED_VIRTUAL_NMIS | (apicv ? PIN_BASED_POSTED_INTR : 0)) |
    PIN_BASED_ALWAYSON_WITHOUT_TRUE_MSR | PIN_BASED_VMX_PREEMPTION_TIMER;
  const exitHigh = VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_LOAD_IA32_PAT | VM_EXIT_SAVE_IA32_PAT |
    VM_EXIT_ALWAYSON_WITHOUT_TRUE_MSR | VM_EXIT_LOAD_IA32_EFER | VM_EXIT_SAVE_IA32_EFER |
    VM_EXIT_SAVE_VMX_PREEMPTION_TIMER | VM_EXIT_ACK_INTR_ON_EXIT;
  const entryHigh = VM_ENTRY_IA32E_MODE | VM_ENTRY_LOAD_IA32_PAT | VM_ENTRY_ALWAYSON_WITHOUT_TRUE_MSR | VM_ENTRY_LOAD_IA32_EFER;
  const procbasedHigh = CPU_BASED_VIRTUAL_INTR_PENDING | CPU_BASED_VIRTUAL_NMI_PENDING | CPU_BASED_USE_TSC_OFFSETING |
    CPU_BASED_HLT_EXITING | CPU_BASED_INVLPG_EXITING | CPU_BASED_MWAIT_EXITING | CPU_BASED_CR3_LOAD_EXITING |
    CPU_BASED_CR3_STORE_EXITING | CPU_BASED_CR8_LOAD_EXITING | CPU_BASED_CR8_STORE_EXITING | CPU_BASED_MOV_DR_EXITING |
    CPU_BASED_UNCOND_IO_EXITING | CPU_BASED_USE_IO_BITMAPS | CPU_BASED_MONITOR_TRAP_FLAG | CPU_BASED_MONITOR_EXITING |
    CPU_BASED_RDPMC_EXITING | CPU_BASED_RDTSC_EXITING | CPU_BASED_PAUSE_EXITING | CPU_BASED_TPR_SHADOW |
    CPU_BASED_ACTIVATE_SECONDARY_CONTROLS | CPU_BASED_ALWAYSON_WITHOUT_TRUE_MSR | CPU_BASED_USE_MSR_BITMAPS;
  // The CPUID-dependent secondary controls (XSAVES, RDTSCP, INVPCID, RDRAND/RDSEED exiting) are
  // left out: the guest CPUID has none of those features. APIC-register virtualization and
  // virtual-interrupt delivery need APICv, which the model's host lacks.
  let secondaryHigh = SECONDARY_EXEC_DESC | SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE | SECONDARY_EXEC_WBINVD_EXITING |
    SECONDARY_EXEC_SHADOW_VMCS;
  let eptCaps = 0n;
  if (p.ept) {
    secondaryHigh |= SECONDARY_EXEC_ENABLE_EPT;
    eptCaps = VMX_EPT_PAGE_WALK_4_BIT | VMX_EPTP_WB_BIT | VMX_EPT_INVEPT_BIT | VMX_EPT_EXECUTE_ONLY_BIT |
      VMX_EPT_EXTENT_GLOBAL_BIT | VMX_EPT_EXTENT_CONTEXT_BIT | VMX_EPT_2MB_PAGE_BIT | VMX_EPT_1GB_PAGE_BIT;
    if (p.eptAd) {
      secondaryHigh |= SECONDARY_EXEC_ENABLE_PML; // PML for L1 is emulated, so it needs only A/D
      eptCaps |= VMX_EPT_AD_BIT;
    }
  }
  let vpidCaps = 0;
  if (p.vpid) {
    secondaryHigh |= SECONDARY_EXEC_ENABLE_VPID;
    vpidCaps = VMX_VPID_INVVPID_BIT | VMX_VPID_EXTENT_SUPPORTED_MASK;
  }
  if (p.unrestrictedGuest) secondaryHigh |= SECONDARY_EXEC_UNRESTRICTED_GUEST;
  if (MODEL_HOST_CPU.flexpriority) secondaryHigh |= SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES;
  const miscLow = (MODEL_HOST_CPU.miscSaveEferLma ? VMX_MISC_SAVE_EFER_LMA : 0) | MSR_IA32_VMX_MISC_VMWRITE_SHADOW_RO_FIELDS |
    VMX_MISC_EMULATED_PREEMPTION_TIMER_RATE | VMX_MISC_ACTIVITY_HLT;
  return {
    pinbasedLow: PIN_BASED_ALWAYSON_WITHOUT_TRUE_MSR,
    pinbasedHigh: u32(pinbasedHigh),
    procbasedLow: u32(CPU_BASED_ALWAYSON_WITHOUT_TRUE_MSR & ~(CPU_BASED_CR3_LOAD_EXITING | CPU_BASED_CR3_STORE_EXITING)),
    procbasedHigh: u32(procbasedHigh),
    secondaryLow: 0,
    secondaryHigh: u32(secondaryHigh),
    exitLow: u32(VM_EXIT_ALWAYSON_WITHOUT_TRUE_MSR & ~VM_EXIT_SAVE_DEBUG_CONTROLS),
    exitHigh: u32(exitHigh),
    entryLow: u32(VM_ENTRY_ALWAYSON_WITHOUT_TRUE_MSR & ~VM_ENTRY_LOAD_DEBUG_CONTROLS),
    entryHigh: u32(entryHigh),
    miscLow: u32(miscLow),
    miscHigh: 0,
    eptCaps,
    vpidCaps,
    vmfuncControls: 0n, // the model's host has no VM functions
    basic: BigInt(VMCS12_REVISION) | VMX_BASIC_TRUE_CTLS | (BigInt(VMCS12_SIZE) << VMX_BASIC_VMCS_SIZE_SHIFT) |
      (VMX_BASIC_MEM_TYPE_WB << VMX_BASIC_MEM_TYPE_SHIFT) | (MODEL_HOST_CPU.basicInout ? VMX_BASIC_INOUT : 0n),
    cr0Fixed0: X86_CR0_PE | X86_CR0_PG | X86_CR0_NE, // VMXON_CR0_ALWAYSON
    cr0Fixed1: MODEL_HOST_CPU.cr0Fixed1,
    cr4Fixed0: X86_CR4_VMXE, // VMXON_CR4_ALWAYSON
    cr4Fixed1: MODEL_HOST_CPU.cr4Fixed1,
    vmcsEnum: BigInt(VMCS12_MAX_FIELD_INDEX << 1),
  };
}

const controlMsr = (low: number, high: number): bigint => BigInt(low >>> 0) | (BigInt(high >>> 0) << 32n);

/** models vmx_get_vmx_msr() (nested.c): the value of a VMX capability MSR, or undefined (#GP). */
export function vmxGetVmxMsr(m: NestedVmxMsrs, index: number): bigint | undefined {
  switch (index) {
    case MSR_IA32_VMX_BASIC:
      return m.basic;
    case MSR_IA32_VMX_TRUE_PINBASED_CTLS:
      return controlMsr(m.pinbasedLow, m.pinbasedHigh);
    case MSR_IA32_VMX_PINBASED_CTLS:
      return controlMsr(m.pinbasedLow | PIN_BASED_ALWAYSON_WITHOUT_TRUE_MSR, m.pinbasedHigh);
    case MSR_IA32_VMX_TRUE_PROCBASED_CTLS:
      return controlMsr(m.procbasedLow, m.procbasedHigh);
    case MSR_IA32_VMX_PROCBASED_CTLS:
      return controlMsr(m.procbasedLow | CPU_BASED_ALWAYSON_WITHOUT_TRUE_MSR, m.procbasedHigh);
    case MSR_IA32_VMX_TRUE_EXIT_CTLS:
      return controlMsr(m.exitLow, m.exitHigh);
    case MSR_IA32_VMX_EXIT_CTLS:
      return controlMsr(m.exitLow | VM_EXIT_ALWAYSON_WITHOUT_TRUE_MSR, m.exitHigh);
    case MSR_IA32_VMX_TRUE_ENTRY_CTLS:
      return controlMsr(m.entryLow, m.entryHigh);
    case MSR_IA32_VMX_ENTRY_CTLS:
      return controlMsr(m.entryLow | VM_ENTRY_ALWAYSON_WITHOUT_TRUE_MSR, m.entryHigh);
    case MSR_IA32_VMX_MISC:
      return controlMsr(m.miscLow, m.miscHigh);
    case MSR_IA32_VMX_CR0_FIXED0:
      return m.cr0Fixed0;
    case MSR_IA32_VMX_CR0_FIXED1:
      return m.cr0Fixed1;
    case MSR_IA32_VMX_CR4_FIXED0:
      return m.cr4Fixed0;
    case MSR_IA32_VMX_CR4_FIXED1:
      return m.cr4Fixed1;
    case MSR_IA32_VMX_VMCS_ENUM:
      return m.vmcsEnum;
    case MSR_IA32_VMX_PROCBASED_CTLS2:
      return controlMsr(m.secondaryLow, m.secondaryHigh);
    case MSR_IA32_VMX_EPT_VPID_CAP:
      return m.eptCaps | (BigInt(m.vpidCaps) << 32n);
    case MSR_IA32_VMX_VMFUNC:
      return m.vmfuncControls;
    default:
      return undefined;
  }
}

/** fixed_bits_valid() (nested.h): every fixed-0 ("must be 1") bit set, nothing outside fixed-1. */
export const fixedBitsValid = (val: bigint, fixed0: bigint, fixed1: bigint): boolean => ((val & fixed1) | fixed0) === val;

/** vmx_control_verify() (nested.c): a 32-bit control against its default1 (low) and allowed1 (high) halves. */
export const vmxControlVerify = (control: bigint, low: number, high: number): boolean =>
  fixedBitsValid(control, BigInt(low >>> 0), BigInt(high >>> 0));
