/**
 * KVM-internal and ABI constants of nested VMX (arch/x86/include/asm/kvm_host.h,
 * arch/x86/include/uapi/asm/kvm.h, include/uapi/linux/kvm.h, arch/x86/kvm/vmx/vmx.h of v5.4).
 */

/** enum kvm_reg / kvm_reg_ex bit numbers in regs_avail (asm/kvm_host.h, x86_64: NR_VCPU_REGS = 17). */
export const VCPU_REGS_RSP = 4; // asm/kvm_host.h
export const VCPU_REGS_RIP = 16; // asm/kvm_host.h
export const VCPU_EXREG_PDPTR = 17; // asm/kvm_host.h
export const VCPU_EXREG_CR3 = 18; // asm/kvm_host.h
export const VCPU_EXREG_RFLAGS = 19; // asm/kvm_host.h
export const VCPU_EXREG_SEGMENTS = 20; // asm/kvm_host.h

/** Cached previous roots per MMU (asm/kvm_host.h). */
export const KVM_MMU_NUM_PREV_ROOTS = 3; // asm/kvm_host.h

/** Default GPA of KVM's identity page table for !URG guests with paging off (vmx/vmx.h). */
export const VMX_EPT_IDENTITY_PAGETABLE_ADDR = 0xfffbc000n; // vmx/vmx.h

/** MAXPHYADDR the model's CPU reports (CPUID 0x80000008 EAX[7:0]); bits above it are reserved in CR3 and VMCS pointers. */
export const MAXPHYADDR = 46;

/** KVM_CAP_NESTED_STATE (include/uapi/linux/kvm.h): answers the buffer size KVM_GET_NESTED_STATE needs. */
export const KVM_CAP_NESTED_STATE = 157; // uapi/linux/kvm.h

// --- struct kvm_nested_state (arch/x86/include/uapi/asm/kvm.h) ---
export const KVM_STATE_NESTED_FORMAT_VMX = 0; // uapi/asm/kvm.h
export const KVM_STATE_NESTED_GUEST_MODE = 0x1; // uapi/asm/kvm.h
export const KVM_STATE_NESTED_RUN_PENDING = 0x2; // uapi/asm/kvm.h
export const KVM_STATE_NESTED_EVMCS = 0x4; // uapi/asm/kvm.h
export const KVM_STATE_NESTED_SMM_GUEST_MODE = 0x1; // uapi/asm/kvm.h
export const KVM_STATE_NESTED_SMM_VMXON = 0x2; // uapi/asm/kvm.h
export const KVM_STATE_NESTED_VMX_VMCS_SIZE = 0x1000; // uapi/asm/kvm.h
/** sizeof(struct kvm_nested_state): flags u16, format u16, size u32, a 120-byte header union. */
export const KVM_NESTED_STATE_HEADER_SIZE = 128; // uapi/asm/kvm.h
/** Byte offsets in the header: hdr.vmx.vmxon_pa, vmcs12_pa, smm.flags (uapi/asm/kvm.h). */
export const KVM_NESTED_STATE_OFFSET_FLAGS = 0;
export const KVM_NESTED_STATE_OFFSET_FORMAT = 2;
export const KVM_NESTED_STATE_OFFSET_SIZE = 4;
export const KVM_NESTED_STATE_OFFSET_VMXON_PA = 8;
export const KVM_NESTED_STATE_OFFSET_VMCS12_PA = 16;
export const KVM_NESTED_STATE_OFFSET_SMM_FLAGS = 24;
/** KVM_CHECK_EXTENSION(KVM_CAP_NESTED_STATE): header + vmcs12 + shadow vmcs12 (vmx_get_nested_state(NULL)). */
export const KVM_NESTED_STATE_MAX_SIZE = KVM_NESTED_STATE_HEADER_SIZE + 2 * KVM_STATE_NESTED_VMX_VMCS_SIZE;
