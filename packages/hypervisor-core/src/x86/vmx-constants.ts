/**
 * VMX architectural values shared by the x86 feature packages. Field encodings, control bits
 * and exit reasons are Intel's (SDM vol. 3, appendix B / C / §24) under the kernel's names
 * (arch/x86/include/asm/vmx.h, arch/x86/include/uapi/asm/vmx.h).
 */

// --- VMCS field encodings (arch/x86/include/asm/vmx.h; SDM vol. 3 appendix B) ---
export const VIRTUAL_PROCESSOR_ID = 0x0000; // asm/vmx.h
export const GUEST_PML_INDEX = 0x0812; // asm/vmx.h (16-bit)
export const IO_BITMAP_A = 0x2000; // asm/vmx.h
export const MSR_BITMAP = 0x2004; // asm/vmx.h
export const PML_ADDRESS = 0x200e; // asm/vmx.h
export const TSC_OFFSET = 0x2010; // asm/vmx.h
export const EPT_POINTER = 0x201a; // asm/vmx.h
export const GUEST_PHYSICAL_ADDRESS = 0x2400; // asm/vmx.h
export const VMCS_LINK_POINTER = 0x2800; // asm/vmx.h
export const GUEST_IA32_EFER = 0x2806; // asm/vmx.h
export const GUEST_PDPTR0 = 0x280a; // asm/vmx.h
export const PIN_BASED_VM_EXEC_CONTROL = 0x4000; // asm/vmx.h
export const CPU_BASED_VM_EXEC_CONTROL = 0x4002; // asm/vmx.h
export const EXCEPTION_BITMAP = 0x4004; // asm/vmx.h
export const VM_EXIT_CONTROLS = 0x400c; // asm/vmx.h
export const VM_ENTRY_CONTROLS = 0x4012; // asm/vmx.h
export const VM_ENTRY_INTR_INFO_FIELD = 0x4016; // asm/vmx.h
export const SECONDARY_VM_EXEC_CONTROL = 0x401e; // asm/vmx.h
export const VM_INSTRUCTION_ERROR = 0x4400; // asm/vmx.h
export const VM_EXIT_REASON = 0x4402; // asm/vmx.h
export const VM_EXIT_INTR_INFO = 0x4404; // asm/vmx.h
export const VM_EXIT_INSTRUCTION_LEN = 0x440c; // asm/vmx.h
export const GUEST_INTERRUPTIBILITY_INFO = 0x4824; // asm/vmx.h
export const GUEST_ACTIVITY_STATE = 0x4826; // asm/vmx.h
export const VMX_PREEMPTION_TIMER_VALUE = 0x482e; // asm/vmx.h
export const EXIT_QUALIFICATION = 0x6400; // asm/vmx.h
export const GUEST_CR0 = 0x6800; // asm/vmx.h
export const GUEST_CR3 = 0x6802; // asm/vmx.h
export const GUEST_CR4 = 0x6804; // asm/vmx.h
export const GUEST_RSP = 0x681c; // asm/vmx.h
export const GUEST_RIP = 0x681e; // asm/vmx.h
export const GUEST_RFLAGS = 0x6820; // asm/vmx.h
export const HOST_CR0 = 0x6c00; // asm/vmx.h
export const HOST_CR3 = 0x6c02; // asm/vmx.h
export const HOST_CR4 = 0x6c04; // asm/vmx.h
export const HOST_RSP = 0x6c14; // asm/vmx.h
export const HOST_RIP = 0x6c16; // asm/vmx.h

/** Names of the fields above, for traces and error messages. */
export const VMCS_FIELD_NAMES: ReadonlyMap<number, string> = new Map([
  [VIRTUAL_PROCESSOR_ID, 'VIRTUAL_PROCESSOR_ID'], [GUEST_PML_INDEX, 'GUEST_PML_INDEX'],
  [IO_BITMAP_A, 'IO_BITMAP_A'], [MSR_BITMAP, 'MSR_BITMAP'], [PML_ADDRESS, 'PML_ADDRESS'],
  [TSC_OFFSET, 'TSC_OFFSET'], [EPT_POINTER, 'EPT_POINTER'], [GUEST_PHYSICAL_ADDRESS, 'GUEST_PHYSICAL_ADDRESS'],
  [VMCS_LINK_POINTER, 'VMCS_LINK_POINTER'], [GUEST_IA32_EFER, 'GUEST_IA32_EFER'], [GUEST_PDPTR0, 'GUEST_PDPTR0'],
  [PIN_BASED_VM_EXEC_CONTROL, 'PIN_BASED_VM_EXEC_CONTROL'], [CPU_BASED_VM_EXEC_CONTROL, 'CPU_BASED_VM_EXEC_CONTROL'],
  [EXCEPTION_BITMAP, 'EXCEPTION_BITMAP'], [VM_EXIT_CONTROLS, 'VM_EXIT_CONTROLS'], [VM_ENTRY_CONTROLS, 'VM_ENTRY_CONTROLS'],
  [VM_ENTRY_INTR_INFO_FIELD, 'VM_ENTRY_INTR_INFO_FIELD'], [SECONDARY_VM_EXEC_CONTROL, 'SECONDARY_VM_EXEC_CONTROL'],
  [VM_INSTRUCTION_ERROR, 'VM_INSTRUCTION_ERROR'], [VM_EXIT_REASON, 'VM_EXIT_REASON'], [VM_EXIT_INTR_INFO, 'VM_EXIT_INTR_INFO'],
  [VM_EXIT_INSTRUCTION_LEN, 'VM_EXIT_INSTRUCTION_LEN'], [GUEST_INTERRUPTIBILITY_INFO, 'GUEST_INTERRUPTIBILITY_INFO'],
  [GUEST_ACTIVITY_STATE, 'GUEST_ACTIVITY_STATE'], [VMX_PREEMPTION_TIMER_VALUE, 'VMX_PREEMPTION_TIMER_VALUE'],
  [EXIT_QUALIFICATION, 'EXIT_QUALIFICATION'], [GUEST_CR0, 'GUEST_CR0'], [GUEST_CR3, 'GUEST_CR3'], [GUEST_CR4, 'GUEST_CR4'],
  [GUEST_RSP, 'GUEST_RSP'], [GUEST_RIP, 'GUEST_RIP'], [GUEST_RFLAGS, 'GUEST_RFLAGS'], [HOST_CR0, 'HOST_CR0'],
  [HOST_CR3, 'HOST_CR3'], [HOST_CR4, 'HOST_CR4'], [HOST_RSP, 'HOST_RSP'], [HOST_RIP, 'HOST_RIP'],
]);

// --- Guest activity states (asm/vmx.h; SDM §24.4.2) ---
export const GUEST_ACTIVITY_ACTIVE = 0; // asm/vmx.h
export const GUEST_ACTIVITY_HLT = 1; // asm/vmx.h
export const GUEST_ACTIVITY_SHUTDOWN = 2; // asm/vmx.h
export const GUEST_ACTIVITY_WAIT_SIPI = 3; // asm/vmx.h

// --- Pin-based controls (asm/vmx.h) ---
export const PIN_BASED_EXT_INTR_MASK = 0x00000001; // asm/vmx.h
export const PIN_BASED_NMI_EXITING = 0x00000008; // asm/vmx.h
export const PIN_BASED_VIRTUAL_NMIS = 0x00000020; // asm/vmx.h
export const PIN_BASED_VMX_PREEMPTION_TIMER = 0x00000040; // asm/vmx.h

// --- Primary processor-based controls (asm/vmx.h) ---
export const CPU_BASED_INTR_WINDOW_EXITING = 0x00000004; // asm/vmx.h (VIRTUAL_INTR_PENDING in 5.x)
export const CPU_BASED_USE_TSC_OFFSETTING = 0x00000008; // asm/vmx.h
export const CPU_BASED_HLT_EXITING = 0x00000080; // asm/vmx.h
export const CPU_BASED_CR3_LOAD_EXITING = 0x00008000; // asm/vmx.h
export const CPU_BASED_CR3_STORE_EXITING = 0x00010000; // asm/vmx.h
export const CPU_BASED_NMI_WINDOW_EXITING = 0x00400000; // asm/vmx.h (VIRTUAL_NMI_PENDING in 5.x)
export const CPU_BASED_ACTIVATE_SECONDARY_CONTROLS = 0x80000000; // asm/vmx.h

// --- Secondary processor-based controls (asm/vmx.h) ---
export const SECONDARY_EXEC_ENABLE_EPT = 0x00000002; // asm/vmx.h
export const SECONDARY_EXEC_UNRESTRICTED_GUEST = 0x00000080; // asm/vmx.h
export const SECONDARY_EXEC_ENABLE_PML = 0x00020000; // asm/vmx.h

// --- Entry/exit controls and interruption info (asm/vmx.h) ---
export const VM_ENTRY_IA32E_MODE = 0x00000200; // asm/vmx.h
export const VM_EXIT_SAVE_VMX_PREEMPTION_TIMER = 0x00400000; // asm/vmx.h
export const INTR_INFO_VALID_MASK = 0x80000000; // asm/vmx.h
export const INTR_TYPE_EXT_INTR = 0 << 8; // asm/vmx.h
export const INTR_TYPE_NMI_INTR = 2 << 8; // asm/vmx.h

// --- IA32_VMX_MISC (asm/vmx.h) ---
export const VMX_MISC_ACTIVITY_HLT = 0x40; // asm/vmx.h (the only inactive state nested KVM offers)
/** timeout_ns = (value << rate) * 1e6 / virtual_tsc_khz (arch/x86/kvm/vmx/nested.c). */
export const VMX_MISC_EMULATED_PREEMPTION_TIMER_RATE = 5; // vmx/nested.c

// --- Basic exit reasons (arch/x86/include/uapi/asm/vmx.h; SDM vol. 3 appendix C) ---
export const EXIT_REASON_EXCEPTION_NMI = 0; // uapi/asm/vmx.h
export const EXIT_REASON_EXTERNAL_INTERRUPT = 1; // uapi/asm/vmx.h
export const EXIT_REASON_TRIPLE_FAULT = 2; // uapi/asm/vmx.h
export const EXIT_REASON_INTERRUPT_WINDOW = 7; // uapi/asm/vmx.h (PENDING_INTERRUPT in 5.x)
export const EXIT_REASON_NMI_WINDOW = 8; // uapi/asm/vmx.h
export const EXIT_REASON_CPUID = 10; // uapi/asm/vmx.h
export const EXIT_REASON_HLT = 12; // uapi/asm/vmx.h
export const EXIT_REASON_VMCALL = 18; // uapi/asm/vmx.h
export const EXIT_REASON_VMCLEAR = 19; // uapi/asm/vmx.h
export const EXIT_REASON_VMLAUNCH = 20; // uapi/asm/vmx.h
export const EXIT_REASON_VMPTRLD = 21; // uapi/asm/vmx.h
export const EXIT_REASON_VMPTRST = 22; // uapi/asm/vmx.h
export const EXIT_REASON_VMREAD = 23; // uapi/asm/vmx.h
export const EXIT_REASON_VMRESUME = 24; // uapi/asm/vmx.h
export const EXIT_REASON_VMWRITE = 25; // uapi/asm/vmx.h
export const EXIT_REASON_VMOFF = 26; // uapi/asm/vmx.h
export const EXIT_REASON_VMON = 27; // uapi/asm/vmx.h
export const EXIT_REASON_CR_ACCESS = 28; // uapi/asm/vmx.h
export const EXIT_REASON_INVALID_STATE = 33; // uapi/asm/vmx.h
export const EXIT_REASON_EPT_VIOLATION = 48; // uapi/asm/vmx.h
export const EXIT_REASON_EPT_MISCONFIG = 49; // uapi/asm/vmx.h
export const EXIT_REASON_INVEPT = 50; // uapi/asm/vmx.h
export const EXIT_REASON_PREEMPTION_TIMER = 52; // uapi/asm/vmx.h
export const EXIT_REASON_PML_FULL = 62; // uapi/asm/vmx.h

export const EXIT_REASON_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'EXCEPTION_NMI'], [1, 'EXTERNAL_INTERRUPT'], [2, 'TRIPLE_FAULT'], [7, 'INTERRUPT_WINDOW'], [8, 'NMI_WINDOW'],
  [10, 'CPUID'], [12, 'HLT'], [18, 'VMCALL'], [19, 'VMCLEAR'], [20, 'VMLAUNCH'], [21, 'VMPTRLD'], [22, 'VMPTRST'],
  [23, 'VMREAD'], [24, 'VMRESUME'], [25, 'VMWRITE'], [26, 'VMOFF'], [27, 'VMON'], [28, 'CR_ACCESS'],
  [33, 'INVALID_STATE'], [48, 'EPT_VIOLATION'], [49, 'EPT_MISCONFIG'], [50, 'INVEPT'], [52, 'PREEMPTION_TIMER'],
  [62, 'PML_FULL'],
]);

// --- PML (arch/x86/kvm/vmx/vmx.h) ---
export const PML_ENTITY_NUM = 512; // kvm/vmx/vmx.h

// --- VM-instruction error numbers (SDM vol. 3 §30.4; asm/vmx.h enum vm_instruction_error_number) ---
export const VMXERR_VMLAUNCH_NONCLEAR_VMCS = 4; // asm/vmx.h
export const VMXERR_VMRESUME_NONLAUNCHED_VMCS = 5; // asm/vmx.h
export const VMXERR_VMPTRLD_INVALID_ADDRESS = 9; // asm/vmx.h
export const VMXERR_VMPTRLD_VMXON_POINTER = 10; // asm/vmx.h
export const VMXERR_VMPTRLD_INCORRECT_VMCS_REVISION_ID = 11; // asm/vmx.h
export const VMXERR_UNSUPPORTED_VMCS_COMPONENT = 12; // asm/vmx.h
export const VMXERR_ENTRY_INVALID_CONTROL_FIELD = 7; // asm/vmx.h
export const VMXERR_ENTRY_INVALID_HOST_STATE_FIELD = 8; // asm/vmx.h
