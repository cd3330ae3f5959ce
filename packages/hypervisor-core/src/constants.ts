/**
 * Linux KVM ABI values that hypervisor-core implements. Every value is the kernel's; the
 * comment names the header. Feature packages export the constants of their own features.
 */

// --- include/uapi/linux/kvm.h: ioctl base and API version ---
export const KVMIO = 0xae; // include/uapi/linux/kvm.h
export const KVM_API_VERSION = 12; // include/uapi/linux/kvm.h

// --- include/uapi/linux/kvm.h: capabilities answered by the core ---
export const KVM_CAP_USER_MEMORY = 3; // include/uapi/linux/kvm.h
export const KVM_CAP_NR_VCPUS = 9; // include/uapi/linux/kvm.h
export const KVM_CAP_NR_MEMSLOTS = 10; // include/uapi/linux/kvm.h
export const KVM_CAP_SYNC_MMU = 16; // include/uapi/linux/kvm.h
export const KVM_CAP_DESTROY_MEMORY_REGION_WORKS = 21; // include/uapi/linux/kvm.h
export const KVM_CAP_JOIN_MEMORY_REGIONS_WORKS = 30; // include/uapi/linux/kvm.h
export const KVM_CAP_ENABLE_CAP = 54; // include/uapi/linux/kvm.h
export const KVM_CAP_MAX_VCPUS = 66; // include/uapi/linux/kvm.h
export const KVM_CAP_ONE_REG = 70; // include/uapi/linux/kvm.h
export const KVM_CAP_READONLY_MEM = 81; // include/uapi/linux/kvm.h
export const KVM_CAP_ENABLE_CAP_VM = 98; // include/uapi/linux/kvm.h
export const KVM_CAP_CHECK_EXTENSION_VM = 105; // include/uapi/linux/kvm.h
export const KVM_CAP_MULTI_ADDRESS_SPACE = 118; // include/uapi/linux/kvm.h
export const KVM_CAP_MAX_VCPU_ID = 128; // include/uapi/linux/kvm.h
/** The obsolete first version; kept so that enabling it fails like KVM does today. */
export const KVM_CAP_MANUAL_DIRTY_LOG_PROTECT = 166; // include/uapi/linux/kvm.h
export const KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 = 168; // include/uapi/linux/kvm.h
export const KVM_CAP_EXIT_HYPERCALL = 201; // include/uapi/linux/kvm.h

// --- KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 argument bits (include/uapi/linux/kvm.h) ---
export const KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE = 1 << 0; // include/uapi/linux/kvm.h
export const KVM_DIRTY_LOG_INITIALLY_SET = 1 << 1; // include/uapi/linux/kvm.h
export const KVM_DIRTY_LOG_MANUAL_CAPS =
  KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET; // include/linux/kvm_host.h

// --- memslot flags (include/uapi/linux/kvm.h) ---
export const KVM_MEM_LOG_DIRTY_PAGES = 1 << 0; // include/uapi/linux/kvm.h
export const KVM_MEM_READONLY = 1 << 1; // include/uapi/linux/kvm.h

// --- limits (Linux 5.3/5.4 era; see the README for later kernels) ---
export const KVM_USER_MEM_SLOTS = 509; // arch/x86/include/asm/kvm_host.h (5.x)
export const KVM_ADDRESS_SPACE_NUM = 2; // arch/x86/include/asm/kvm_host.h (x86: normal + SMM)
export const KVM_MAX_VCPUS = 288; // arch/x86/include/asm/kvm_host.h (5.x)
export const KVM_SOFT_MAX_VCPUS = 240; // arch/x86/include/asm/kvm_host.h (5.x)
export const KVM_MAX_VCPU_ID = 1023; // arch/x86/include/asm/kvm_host.h (5.4)
export const PAGE_SHIFT = 12n; // arch/x86/include/asm/page_types.h
export const PAGE_SIZE = 1n << PAGE_SHIFT; // 4 KiB

// --- paravirtual hypercalls (include/uapi/linux/kvm_para.h) ---
export const KVM_HC_VAPIC_POLL_IRQ = 1; // include/uapi/linux/kvm_para.h
export const KVM_HC_FEATURES = 3; // include/uapi/linux/kvm_para.h
export const KVM_HC_KICK_CPU = 5; // include/uapi/linux/kvm_para.h
export const KVM_HC_CLOCK_PAIRING = 9; // include/uapi/linux/kvm_para.h
export const KVM_HC_SEND_IPI = 10; // include/uapi/linux/kvm_para.h
export const KVM_HC_SCHED_YIELD = 11; // include/uapi/linux/kvm_para.h
export const KVM_HC_MAP_GPA_RANGE = 12; // include/uapi/linux/kvm_para.h

// --- KVM paravirtual CPUID leaves (arch/x86/include/uapi/asm/kvm_para.h) ---
export const KVM_CPUID_SIGNATURE = 0x40000000; // arch/x86/include/uapi/asm/kvm_para.h
export const KVM_CPUID_FEATURES = 0x40000001; // arch/x86/include/uapi/asm/kvm_para.h
/** EBX, ECX, EDX of KVM_CPUID_SIGNATURE (arch/x86/include/uapi/asm/kvm_para.h, 5.8+; arch/x86/kvm/cpuid.c). */
export const KVM_SIGNATURE = 'KVMKVMKVM\0\0\0'; // arch/x86/include/uapi/asm/kvm_para.h

/** Hypercall return codes; RAX gets the negative value (include/uapi/linux/kvm_para.h). */
export const KVM_ENOSYS = 1000; // include/uapi/linux/kvm_para.h
export const KVM_EFAULT = 14; // include/uapi/linux/kvm_para.h (= EFAULT)
export const KVM_EINVAL = 22; // include/uapi/linux/kvm_para.h (= EINVAL)
export const KVM_E2BIG = 7; // include/uapi/linux/kvm_para.h (= E2BIG)
export const KVM_EPERM = 1; // include/uapi/linux/kvm_para.h (= EPERM)
export const KVM_EOPNOTSUPP = 95; // include/uapi/linux/kvm_para.h

// --- exit reasons reported to userspace (include/uapi/linux/kvm.h) ---
export const KVM_EXIT_UNKNOWN = 0; // include/uapi/linux/kvm.h
export const KVM_EXIT_HYPERCALL = 3; // include/uapi/linux/kvm.h
export const KVM_EXIT_MMIO = 6; // include/uapi/linux/kvm.h
export const KVM_EXIT_SYSTEM_EVENT = 24; // include/uapi/linux/kvm.h
