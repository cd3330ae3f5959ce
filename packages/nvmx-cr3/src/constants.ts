/**
 * Values nested VMX uses beyond the shared ones in hypervisor-core (those are re-used from
 * there: GUEST_CR3, GUEST_ACTIVITY_STATE, controls, exit reasons, VM-instruction errors).
 * Each names the header it comes from; constants.test.ts checks them.
 */

/** KVM's vmcs12 revision id; VMPTRLD of a region with another id fails (arch/x86/kvm/vmx/vmcs12.h). */
export const VMCS12_REVISION = 0x11e57ed0; // vmx/vmcs12.h
/** Exit control "acknowledge interrupt on exit" (arch/x86/include/asm/vmx.h). */
export const VM_EXIT_ACK_INTR_ON_EXIT = 0x00008000; // asm/vmx.h
/** Exit control "host address-space size" (asm/vmx.h). */
export const VM_EXIT_HOST_ADDR_SPACE_SIZE = 0x00000200; // asm/vmx.h
/** Bit 31 of the exit reason: the VM entry failed (uapi/asm/vmx.h). */
export const VMX_EXIT_REASONS_FAILED_VMENTRY = 0x80000000; // uapi/asm/vmx.h
/** Exit qualification of a failed entry for an invalid guest state (asm/vmx.h). */
export const ENTRY_FAIL_DEFAULT = 0; // asm/vmx.h
/** VMWRITE to a read-only field (asm/vmx.h enum vm_instruction_error_number). */
export const VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT = 13; // asm/vmx.h
/** VMCLEAR with an invalid address / with the VMXON pointer (asm/vmx.h). */
export const VMXERR_VMCLEAR_INVALID_ADDRESS = 2; // asm/vmx.h
export const VMXERR_VMCLEAR_VMXON_POINTER = 3; // asm/vmx.h
/** VMXON executed in VMX root operation (asm/vmx.h). */
export const VMXERR_VMXON_IN_VMX_ROOT_OPERATION = 15; // asm/vmx.h

/** kvm_mp_state values (include/uapi/linux/kvm.h). */
export const KVM_MP_STATE_RUNNABLE = 0; // uapi/linux/kvm.h
export const KVM_MP_STATE_HALTED = 3; // uapi/linux/kvm.h

/** enum kvm_reg / kvm_reg_ex bit numbers in regs_avail (arch/x86/include/asm/kvm_host.h, x86_64). */
export const VCPU_REGS_RSP = 4; // asm/kvm_host.h
export const VCPU_REGS_RIP = 16; // asm/kvm_host.h (NR_VCPU_REGS = 17 on x86_64)
export const VCPU_EXREG_PDPTR = 17; // asm/kvm_host.h
export const VCPU_EXREG_CR3 = 18; // asm/kvm_host.h
export const VCPU_EXREG_RFLAGS = 19; // asm/kvm_host.h
export const VCPU_EXREG_SEGMENTS = 20; // asm/kvm_host.h

/** Cached previous roots per MMU (arch/x86/include/asm/kvm_host.h). */
export const KVM_MMU_NUM_PREV_ROOTS = 3; // asm/kvm_host.h

/** Default GPA of KVM's identity page table for !URG guests with paging off (arch/x86/kvm/vmx/vmx.h). */
export const VMX_EPT_IDENTITY_PAGETABLE_ADDR = 0xfffbc000n; // vmx/vmx.h

/** RFLAGS bits (arch/x86/include/uapi/asm/processor-flags.h). */
export const X86_EFLAGS_CF = 0x1n; // uapi/asm/processor-flags.h
export const X86_EFLAGS_FIXED = 0x2n; // uapi/asm/processor-flags.h (bit 1 always set)
export const X86_EFLAGS_ZF = 0x40n; // uapi/asm/processor-flags.h
export const X86_EFLAGS_IF = 0x200n; // uapi/asm/processor-flags.h

/** CR0.PG (uapi/asm/processor-flags.h). */
export const X86_CR0_PG = 0x80000000n; // uapi/asm/processor-flags.h

/** MAXPHYADDR the model's CPU reports (CPUID 0x80000008 EAX[7:0]); CR3/HOST_CR3 bits above it are reserved. */
export const MAXPHYADDR = 46;

/** VMX_EPT_* EPTP memory type and walk length (asm/vmx.h): WB = 6, 4-level walk = 3 << 3. */
export const VMX_EPTP_MT_WB = 0x6n; // asm/vmx.h
export const VMX_EPTP_PWL_4 = 0x18n; // asm/vmx.h
