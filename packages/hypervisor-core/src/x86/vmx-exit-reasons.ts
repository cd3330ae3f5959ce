/**
 * VMX basic exit reasons (arch/x86/include/uapi/asm/vmx.h of v5.4; SDM vol. 3 appendix C) and
 * VM-instruction error numbers (asm/vmx.h enum vm_instruction_error_number; SDM §30.4).
 */

export const VMX_EXIT_REASONS_FAILED_VMENTRY = 0x80000000; // uapi/asm/vmx.h

export const EXIT_REASON_EXCEPTION_NMI = 0; // uapi/asm/vmx.h
export const EXIT_REASON_EXTERNAL_INTERRUPT = 1; // uapi/asm/vmx.h
export const EXIT_REASON_TRIPLE_FAULT = 2; // uapi/asm/vmx.h
export const EXIT_REASON_INIT_SIGNAL = 3; // uapi/asm/vmx.h
export const EXIT_REASON_PENDING_INTERRUPT = 7; // uapi/asm/vmx.h (v5.6+: INTERRUPT_WINDOW)
export const EXIT_REASON_NMI_WINDOW = 8; // uapi/asm/vmx.h
export const EXIT_REASON_TASK_SWITCH = 9; // uapi/asm/vmx.h
export const EXIT_REASON_CPUID = 10; // uapi/asm/vmx.h
export const EXIT_REASON_HLT = 12; // uapi/asm/vmx.h
export const EXIT_REASON_INVD = 13; // uapi/asm/vmx.h
export const EXIT_REASON_INVLPG = 14; // uapi/asm/vmx.h
export const EXIT_REASON_RDPMC = 15; // uapi/asm/vmx.h
export const EXIT_REASON_RDTSC = 16; // uapi/asm/vmx.h
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
export const EXIT_REASON_DR_ACCESS = 29; // uapi/asm/vmx.h
export const EXIT_REASON_IO_INSTRUCTION = 30; // uapi/asm/vmx.h
export const EXIT_REASON_MSR_READ = 31; // uapi/asm/vmx.h
export const EXIT_REASON_MSR_WRITE = 32; // uapi/asm/vmx.h
export const EXIT_REASON_INVALID_STATE = 33; // uapi/asm/vmx.h
export const EXIT_REASON_MSR_LOAD_FAIL = 34; // uapi/asm/vmx.h
export const EXIT_REASON_MWAIT_INSTRUCTION = 36; // uapi/asm/vmx.h
export const EXIT_REASON_MONITOR_TRAP_FLAG = 37; // uapi/asm/vmx.h
export const EXIT_REASON_PAUSE_INSTRUCTION = 40; // uapi/asm/vmx.h
export const EXIT_REASON_EPT_VIOLATION = 48; // uapi/asm/vmx.h
export const EXIT_REASON_EPT_MISCONFIG = 49; // uapi/asm/vmx.h
export const EXIT_REASON_INVEPT = 50; // uapi/asm/vmx.h
export const EXIT_REASON_RDTSCP = 51; // uapi/asm/vmx.h
export const EXIT_REASON_PREEMPTION_TIMER = 52; // uapi/asm/vmx.h
export const EXIT_REASON_INVVPID = 53; // uapi/asm/vmx.h
export const EXIT_REASON_PML_FULL = 62; // uapi/asm/vmx.h
/** Today's name of reason 7 (v5.6 "KVM: VMX: Rename INTERRUPT_PENDING to INTERRUPT_WINDOW"). */
export const EXIT_REASON_INTERRUPT_WINDOW = EXIT_REASON_PENDING_INTERRUPT; // uapi/asm/vmx.h (v5.6+)

/** Reason number → name (the kernel's VMX_EXIT_REASONS strings without the prefix). */
export const EXIT_REASON_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'EXCEPTION_NMI'], [1, 'EXTERNAL_INTERRUPT'], [2, 'TRIPLE_FAULT'], [3, 'INIT_SIGNAL'], [7, 'INTERRUPT_WINDOW'],
  [8, 'NMI_WINDOW'], [9, 'TASK_SWITCH'], [10, 'CPUID'], [12, 'HLT'], [13, 'INVD'], [14, 'INVLPG'], [15, 'RDPMC'],
  [16, 'RDTSC'], [18, 'VMCALL'], [19, 'VMCLEAR'], [20, 'VMLAUNCH'], [21, 'VMPTRLD'], [22, 'VMPTRST'], [23, 'VMREAD'],
  [24, 'VMRESUME'], [25, 'VMWRITE'], [26, 'VMOFF'], [27, 'VMON'], [28, 'CR_ACCESS'], [29, 'DR_ACCESS'],
  [30, 'IO_INSTRUCTION'], [31, 'MSR_READ'], [32, 'MSR_WRITE'], [33, 'INVALID_STATE'], [34, 'MSR_LOAD_FAIL'],
  [36, 'MWAIT_INSTRUCTION'], [37, 'MONITOR_TRAP_FLAG'], [40, 'PAUSE_INSTRUCTION'], [48, 'EPT_VIOLATION'],
  [49, 'EPT_MISCONFIG'], [50, 'INVEPT'], [51, 'RDTSCP'], [52, 'PREEMPTION_TIMER'], [53, 'INVVPID'], [62, 'PML_FULL'],
]);

// --- VM-instruction error numbers (asm/vmx.h enum vm_instruction_error_number) ---
export const VMXERR_VMCALL_IN_VMX_ROOT_OPERATION = 1; // asm/vmx.h
export const VMXERR_VMCLEAR_INVALID_ADDRESS = 2; // asm/vmx.h
export const VMXERR_VMCLEAR_VMXON_POINTER = 3; // asm/vmx.h
export const VMXERR_VMLAUNCH_NONCLEAR_VMCS = 4; // asm/vmx.h
export const VMXERR_VMRESUME_NONLAUNCHED_VMCS = 5; // asm/vmx.h
export const VMXERR_VMRESUME_AFTER_VMXOFF = 6; // asm/vmx.h
export const VMXERR_ENTRY_INVALID_CONTROL_FIELD = 7; // asm/vmx.h
export const VMXERR_ENTRY_INVALID_HOST_STATE_FIELD = 8; // asm/vmx.h
export const VMXERR_VMPTRLD_INVALID_ADDRESS = 9; // asm/vmx.h
export const VMXERR_VMPTRLD_VMXON_POINTER = 10; // asm/vmx.h
export const VMXERR_VMPTRLD_INCORRECT_VMCS_REVISION_ID = 11; // asm/vmx.h
export const VMXERR_UNSUPPORTED_VMCS_COMPONENT = 12; // asm/vmx.h
export const VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT = 13; // asm/vmx.h
export const VMXERR_VMXON_IN_VMX_ROOT_OPERATION = 15; // asm/vmx.h
export const VMXERR_ENTRY_EVENTS_BLOCKED_BY_MOV_SS = 26; // asm/vmx.h
export const VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID = 28; // asm/vmx.h
