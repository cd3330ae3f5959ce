/**
 * x86 register bits and MSR indices the VMX model uses (arch/x86/include/uapi/asm/processor-flags.h,
 * arch/x86/include/asm/msr-index.h of v5.4; SDM vol. 3 §2.5, §35).
 */

// --- RFLAGS (uapi/asm/processor-flags.h) ---
export const X86_EFLAGS_CF = 1n << 0n; // uapi/asm/processor-flags.h
export const X86_EFLAGS_FIXED = 1n << 1n; // uapi/asm/processor-flags.h (bit 1 always set)
export const X86_EFLAGS_PF = 1n << 2n; // uapi/asm/processor-flags.h
export const X86_EFLAGS_AF = 1n << 4n; // uapi/asm/processor-flags.h
export const X86_EFLAGS_ZF = 1n << 6n; // uapi/asm/processor-flags.h
export const X86_EFLAGS_SF = 1n << 7n; // uapi/asm/processor-flags.h
export const X86_EFLAGS_IF = 1n << 9n; // uapi/asm/processor-flags.h
export const X86_EFLAGS_OF = 1n << 11n; // uapi/asm/processor-flags.h

// --- CR0 / CR4 (uapi/asm/processor-flags.h) ---
export const X86_CR0_PE = 1n << 0n; // uapi/asm/processor-flags.h
export const X86_CR0_TS = 1n << 3n; // uapi/asm/processor-flags.h
export const X86_CR0_NE = 1n << 5n; // uapi/asm/processor-flags.h
export const X86_CR0_WP = 1n << 16n; // uapi/asm/processor-flags.h
export const X86_CR0_PG = 1n << 31n; // uapi/asm/processor-flags.h
export const X86_CR4_PAE = 1n << 5n; // uapi/asm/processor-flags.h
export const X86_CR4_VMXE = 1n << 13n; // uapi/asm/processor-flags.h
export const X86_CR4_PCIDE = 1n << 17n; // uapi/asm/processor-flags.h

// --- EFER (asm/msr-index.h) ---
export const MSR_EFER = 0xc0000080; // asm/msr-index.h
export const EFER_LME = 1n << 8n; // asm/msr-index.h
export const EFER_LMA = 1n << 10n; // asm/msr-index.h

// --- IA32_FEATURE_CONTROL (asm/msr-index.h): VMXON needs LOCKED and VMXON outside SMX ---
export const MSR_IA32_FEATURE_CONTROL = 0x3a; // asm/msr-index.h
export const FEATURE_CONTROL_LOCKED = 1n << 0n; // asm/msr-index.h
export const FEATURE_CONTROL_VMXON_ENABLED_OUTSIDE_SMX = 1n << 2n; // asm/msr-index.h

// --- VMX capability MSRs (asm/msr-index.h; SDM appendix A) ---
export const MSR_IA32_VMX_BASIC = 0x480; // asm/msr-index.h
export const MSR_IA32_VMX_PINBASED_CTLS = 0x481; // asm/msr-index.h
export const MSR_IA32_VMX_PROCBASED_CTLS = 0x482; // asm/msr-index.h
export const MSR_IA32_VMX_EXIT_CTLS = 0x483; // asm/msr-index.h
export const MSR_IA32_VMX_ENTRY_CTLS = 0x484; // asm/msr-index.h
export const MSR_IA32_VMX_MISC = 0x485; // asm/msr-index.h
export const MSR_IA32_VMX_CR0_FIXED0 = 0x486; // asm/msr-index.h
export const MSR_IA32_VMX_CR0_FIXED1 = 0x487; // asm/msr-index.h
export const MSR_IA32_VMX_CR4_FIXED0 = 0x488; // asm/msr-index.h
export const MSR_IA32_VMX_CR4_FIXED1 = 0x489; // asm/msr-index.h
export const MSR_IA32_VMX_VMCS_ENUM = 0x48a; // asm/msr-index.h
export const MSR_IA32_VMX_PROCBASED_CTLS2 = 0x48b; // asm/msr-index.h
export const MSR_IA32_VMX_EPT_VPID_CAP = 0x48c; // asm/msr-index.h
export const MSR_IA32_VMX_TRUE_PINBASED_CTLS = 0x48d; // asm/msr-index.h
export const MSR_IA32_VMX_TRUE_PROCBASED_CTLS = 0x48e; // asm/msr-index.h
export const MSR_IA32_VMX_TRUE_EXIT_CTLS = 0x48f; // asm/msr-index.h
export const MSR_IA32_VMX_TRUE_ENTRY_CTLS = 0x490; // asm/msr-index.h
export const MSR_IA32_VMX_VMFUNC = 0x491; // asm/msr-index.h

/** CPUID.1:ECX.VMX (arch/x86/include/asm/cpufeatures.h X86_FEATURE_VMX = 4*32+5). */
export const CPUID_1_ECX_VMX = 1 << 5; // asm/cpufeatures.h

/** kvm_mp_state values (include/uapi/linux/kvm.h). */
export const KVM_MP_STATE_RUNNABLE = 0; // uapi/linux/kvm.h
export const KVM_MP_STATE_HALTED = 3; // uapi/linux/kvm.h
