/**
 * VMX control bits, event-injection formats and capability-MSR bits under the 2019 kernel names
 * (arch/x86/include/asm/vmx.h and msr-index.h of v5.4; Intel SDM vol. 3 §24.6–§24.8, appendix A).
 * Later kernels renamed a few; those names are exported too, as aliases, so code written against
 * either kernel reads naturally.
 */

// --- Pin-based VM-execution controls (asm/vmx.h) ---
export const PIN_BASED_EXT_INTR_MASK = 0x00000001; // asm/vmx.h
export const PIN_BASED_NMI_EXITING = 0x00000008; // asm/vmx.h
export const PIN_BASED_VIRTUAL_NMIS = 0x00000020; // asm/vmx.h
export const PIN_BASED_VMX_PREEMPTION_TIMER = 0x00000040; // asm/vmx.h
export const PIN_BASED_POSTED_INTR = 0x00000080; // asm/vmx.h
/** Default1 bits of the pin-based controls (SDM A.3.1). */
export const PIN_BASED_ALWAYSON_WITHOUT_TRUE_MSR = 0x00000016; // asm/vmx.h

// --- Primary processor-based controls (asm/vmx.h, v5.4 names) ---
export const CPU_BASED_VIRTUAL_INTR_PENDING = 0x00000004; // asm/vmx.h (interrupt-window exiting)
export const CPU_BASED_USE_TSC_OFFSETING = 0x00000008; // asm/vmx.h
export const CPU_BASED_HLT_EXITING = 0x00000080; // asm/vmx.h
export const CPU_BASED_INVLPG_EXITING = 0x00000200; // asm/vmx.h
export const CPU_BASED_MWAIT_EXITING = 0x00000400; // asm/vmx.h
export const CPU_BASED_RDPMC_EXITING = 0x00000800; // asm/vmx.h
export const CPU_BASED_RDTSC_EXITING = 0x00001000; // asm/vmx.h
export const CPU_BASED_CR3_LOAD_EXITING = 0x00008000; // asm/vmx.h
export const CPU_BASED_CR3_STORE_EXITING = 0x00010000; // asm/vmx.h
export const CPU_BASED_CR8_LOAD_EXITING = 0x00080000; // asm/vmx.h
export const CPU_BASED_CR8_STORE_EXITING = 0x00100000; // asm/vmx.h
export const CPU_BASED_TPR_SHADOW = 0x00200000; // asm/vmx.h
export const CPU_BASED_VIRTUAL_NMI_PENDING = 0x00400000; // asm/vmx.h (NMI-window exiting)
export const CPU_BASED_MOV_DR_EXITING = 0x00800000; // asm/vmx.h
export const CPU_BASED_UNCOND_IO_EXITING = 0x01000000; // asm/vmx.h
export const CPU_BASED_USE_IO_BITMAPS = 0x02000000; // asm/vmx.h
export const CPU_BASED_MONITOR_TRAP_FLAG = 0x08000000; // asm/vmx.h
export const CPU_BASED_USE_MSR_BITMAPS = 0x10000000; // asm/vmx.h
export const CPU_BASED_MONITOR_EXITING = 0x20000000; // asm/vmx.h
export const CPU_BASED_PAUSE_EXITING = 0x40000000; // asm/vmx.h
export const CPU_BASED_ACTIVATE_SECONDARY_CONTROLS = 0x80000000; // asm/vmx.h
/** Default1 bits of the primary controls (SDM A.3.2). */
export const CPU_BASED_ALWAYSON_WITHOUT_TRUE_MSR = 0x0401e172; // asm/vmx.h
/** Today's names (v5.6 "KVM: VMX: Rename INTERRUPT_PENDING to INTERRUPT_WINDOW" and friends). */
export const CPU_BASED_INTR_WINDOW_EXITING = CPU_BASED_VIRTUAL_INTR_PENDING; // asm/vmx.h (v5.6+)
export const CPU_BASED_NMI_WINDOW_EXITING = CPU_BASED_VIRTUAL_NMI_PENDING; // asm/vmx.h (v5.6+)
export const CPU_BASED_USE_TSC_OFFSETTING = CPU_BASED_USE_TSC_OFFSETING; // asm/vmx.h (v5.6+)

// --- Secondary processor-based controls (asm/vmx.h) ---
export const SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES = 0x00000001; // asm/vmx.h
export const SECONDARY_EXEC_ENABLE_EPT = 0x00000002; // asm/vmx.h
export const SECONDARY_EXEC_DESC = 0x00000004; // asm/vmx.h
export const SECONDARY_EXEC_RDTSCP = 0x00000008; // asm/vmx.h
export const SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE = 0x00000010; // asm/vmx.h
export const SECONDARY_EXEC_ENABLE_VPID = 0x00000020; // asm/vmx.h
export const SECONDARY_EXEC_WBINVD_EXITING = 0x00000040; // asm/vmx.h
export const SECONDARY_EXEC_UNRESTRICTED_GUEST = 0x00000080; // asm/vmx.h
export const SECONDARY_EXEC_APIC_REGISTER_VIRT = 0x00000100; // asm/vmx.h
export const SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY = 0x00000200; // asm/vmx.h
export const SECONDARY_EXEC_PAUSE_LOOP_EXITING = 0x00000400; // asm/vmx.h
export const SECONDARY_EXEC_RDRAND_EXITING = 0x00000800; // asm/vmx.h
export const SECONDARY_EXEC_ENABLE_INVPCID = 0x00001000; // asm/vmx.h
export const SECONDARY_EXEC_ENABLE_VMFUNC = 0x00002000; // asm/vmx.h
export const SECONDARY_EXEC_SHADOW_VMCS = 0x00004000; // asm/vmx.h
export const SECONDARY_EXEC_RDSEED_EXITING = 0x00010000; // asm/vmx.h
export const SECONDARY_EXEC_ENABLE_PML = 0x00020000; // asm/vmx.h
export const SECONDARY_EXEC_XSAVES = 0x00100000; // asm/vmx.h

// --- VM-exit controls (asm/vmx.h) ---
export const VM_EXIT_SAVE_DEBUG_CONTROLS = 0x00000004; // asm/vmx.h
export const VM_EXIT_HOST_ADDR_SPACE_SIZE = 0x00000200; // asm/vmx.h
export const VM_EXIT_LOAD_IA32_PERF_GLOBAL_CTRL = 0x00001000; // asm/vmx.h
export const VM_EXIT_ACK_INTR_ON_EXIT = 0x00008000; // asm/vmx.h
export const VM_EXIT_SAVE_IA32_PAT = 0x00040000; // asm/vmx.h
export const VM_EXIT_LOAD_IA32_PAT = 0x00080000; // asm/vmx.h
export const VM_EXIT_SAVE_IA32_EFER = 0x00100000; // asm/vmx.h
export const VM_EXIT_LOAD_IA32_EFER = 0x00200000; // asm/vmx.h
export const VM_EXIT_SAVE_VMX_PREEMPTION_TIMER = 0x00400000; // asm/vmx.h
export const VM_EXIT_CLEAR_BNDCFGS = 0x00800000; // asm/vmx.h
/** Default1 bits of the exit controls (SDM A.4). */
export const VM_EXIT_ALWAYSON_WITHOUT_TRUE_MSR = 0x00036dff; // asm/vmx.h

// --- VM-entry controls (asm/vmx.h) ---
export const VM_ENTRY_LOAD_DEBUG_CONTROLS = 0x00000004; // asm/vmx.h
export const VM_ENTRY_IA32E_MODE = 0x00000200; // asm/vmx.h
export const VM_ENTRY_SMM = 0x00000400; // asm/vmx.h
export const VM_ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL = 0x00002000; // asm/vmx.h
export const VM_ENTRY_LOAD_IA32_PAT = 0x00004000; // asm/vmx.h
export const VM_ENTRY_LOAD_IA32_EFER = 0x00008000; // asm/vmx.h
export const VM_ENTRY_LOAD_BNDCFGS = 0x00010000; // asm/vmx.h
/** Default1 bits of the entry controls (SDM A.5). */
export const VM_ENTRY_ALWAYSON_WITHOUT_TRUE_MSR = 0x000011ff; // asm/vmx.h

// --- Interruption information (asm/vmx.h; SDM §24.8.3, §24.9.2) ---
export const INTR_INFO_VECTOR_MASK = 0xff; // asm/vmx.h
export const INTR_INFO_INTR_TYPE_MASK = 0x700; // asm/vmx.h
export const INTR_INFO_DELIVER_CODE_MASK = 0x800; // asm/vmx.h
export const INTR_INFO_UNBLOCK_NMI = 0x1000; // asm/vmx.h
export const INTR_INFO_VALID_MASK = 0x80000000; // asm/vmx.h
export const INTR_INFO_RESVD_BITS_MASK = 0x7ffff000; // asm/vmx.h
export const INTR_TYPE_EXT_INTR = 0 << 8; // asm/vmx.h
export const INTR_TYPE_RESERVED = 1 << 8; // asm/vmx.h
export const INTR_TYPE_NMI_INTR = 2 << 8; // asm/vmx.h
export const INTR_TYPE_HARD_EXCEPTION = 3 << 8; // asm/vmx.h
export const INTR_TYPE_SOFT_INTR = 4 << 8; // asm/vmx.h
export const INTR_TYPE_PRIV_SW_EXCEPTION = 5 << 8; // asm/vmx.h
export const INTR_TYPE_SOFT_EXCEPTION = 6 << 8; // asm/vmx.h
export const INTR_TYPE_OTHER_EVENT = 7 << 8; // asm/vmx.h
export const NMI_VECTOR = 2; // arch/x86/include/asm/irq_vectors.h
export const GUEST_INTR_STATE_STI = 0x1; // asm/vmx.h
export const GUEST_INTR_STATE_MOV_SS = 0x2; // asm/vmx.h

// --- Guest activity states (asm/vmx.h; SDM §24.4.2) ---
export const GUEST_ACTIVITY_ACTIVE = 0; // asm/vmx.h
export const GUEST_ACTIVITY_HLT = 1; // asm/vmx.h
export const GUEST_ACTIVITY_SHUTDOWN = 2; // asm/vmx.h
export const GUEST_ACTIVITY_WAIT_SIPI = 3; // asm/vmx.h

// --- Exit qualifications of a failed VM entry (asm/vmx.h; SDM §26.8) ---
export const ENTRY_FAIL_DEFAULT = 0; // asm/vmx.h
export const ENTRY_FAIL_PDPTE = 2; // asm/vmx.h
export const ENTRY_FAIL_VMCS_LINK_PTR = 4; // asm/vmx.h

// --- IA32_VMX_MISC (asm/vmx.h, msr-index.h; SDM A.6) ---
export const VMX_MISC_PREEMPTION_TIMER_RATE_MASK = 0x1f; // asm/vmx.h
export const VMX_MISC_SAVE_EFER_LMA = 0x20; // asm/vmx.h
export const VMX_MISC_ACTIVITY_HLT = 0x40; // asm/vmx.h (the only inactive state nested KVM offers)
/** "VMWRITE to any supported VMCS field", read-only exit fields included (SDM A.6 bit 29). */
export const MSR_IA32_VMX_MISC_VMWRITE_SHADOW_RO_FIELDS = 1 << 29; // msr-index.h
/** timeout_ns = (value << rate) * 1e6 / virtual_tsc_khz (arch/x86/kvm/vmx/nested.c). */
export const VMX_MISC_EMULATED_PREEMPTION_TIMER_RATE = 5; // vmx/nested.c

// --- IA32_VMX_BASIC (msr-index.h; SDM A.1) ---
export const VMX_BASIC_VMCS_SIZE_SHIFT = 32n; // msr-index.h
export const VMX_BASIC_MEM_TYPE_SHIFT = 50n; // msr-index.h
export const VMX_BASIC_MEM_TYPE_WB = 6n; // msr-index.h
export const VMX_BASIC_INOUT = 1n << 54n; // msr-index.h
export const VMX_BASIC_TRUE_CTLS = 1n << 55n; // msr-index.h

// --- IA32_VMX_EPT_VPID_CAP (asm/vmx.h; SDM A.10) ---
export const VMX_EPT_EXECUTE_ONLY_BIT = 1n << 0n; // asm/vmx.h
export const VMX_EPT_PAGE_WALK_4_BIT = 1n << 6n; // asm/vmx.h
export const VMX_EPTP_UC_BIT = 1n << 8n; // asm/vmx.h
export const VMX_EPTP_WB_BIT = 1n << 14n; // asm/vmx.h
export const VMX_EPT_2MB_PAGE_BIT = 1n << 16n; // asm/vmx.h
export const VMX_EPT_1GB_PAGE_BIT = 1n << 17n; // asm/vmx.h
export const VMX_EPT_INVEPT_BIT = 1n << 20n; // asm/vmx.h
export const VMX_EPT_AD_BIT = 1n << 21n; // asm/vmx.h
export const VMX_EPT_EXTENT_CONTEXT_BIT = 1n << 25n; // asm/vmx.h
export const VMX_EPT_EXTENT_GLOBAL_BIT = 1n << 26n; // asm/vmx.h
export const VMX_EPT_EXTENT_SHIFT = 24n; // asm/vmx.h
export const VMX_EPT_EXTENT_CONTEXT = 1; // asm/vmx.h (INVEPT type)
export const VMX_EPT_EXTENT_GLOBAL = 2; // asm/vmx.h (INVEPT type)
/** VPID capabilities, as the upper half of IA32_VMX_EPT_VPID_CAP (asm/vmx.h). */
export const VMX_VPID_INVVPID_BIT = 1 << 0; // asm/vmx.h
export const VMX_VPID_EXTENT_SUPPORTED_MASK = 0xf00; // vmx/nested.c (individual, single, all, single-non-global: bits 40–43)
export const VMX_VPID_EXTENT_INDIVIDUAL_ADDR = 0; // asm/vmx.h
export const VMX_VPID_EXTENT_SINGLE_CONTEXT = 1; // asm/vmx.h
export const VMX_VPID_EXTENT_ALL_CONTEXT = 2; // asm/vmx.h
export const VMX_VPID_EXTENT_SINGLE_NON_GLOBAL = 3; // asm/vmx.h
export const VMX_VMFUNC_EPTP_SWITCHING = 1; // asm/vmx.h

// --- PML (arch/x86/kvm/vmx/vmx.h) ---
export const PML_ENTITY_NUM = 512; // kvm/vmx/vmx.h
