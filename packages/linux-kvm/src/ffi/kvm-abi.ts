/**
 * The KVM userspace ABI this package speaks on x86_64: ioctl request numbers, struct sizes and
 * exit reasons. Every value comes from include/uapi/linux/kvm.h (structs for x86 from
 * arch/x86/include/uapi/asm/kvm.h) and the _IO/_IOR/_IOW/_IOWR encoding of
 * include/uapi/asm-generic/ioctl.h; the tests recompute each request number from its parts.
 */

// include/uapi/asm-generic/ioctl.h: nr bits 0-7, type 8-15, size 16-29, direction 30-31.
export const IOC_NONE = 0; // include/uapi/asm-generic/ioctl.h
export const IOC_WRITE = 1; // include/uapi/asm-generic/ioctl.h
export const IOC_READ = 2; // include/uapi/asm-generic/ioctl.h

/** The _IOC() macro of include/uapi/asm-generic/ioctl.h, as an unsigned long. */
export function ioc(dir: number, type: number, nr: number, size: number): bigint {
  return (BigInt(dir) << 30n) | (BigInt(size) << 16n) | (BigInt(type) << 8n) | BigInt(nr);
}

export const KVMIO = 0xae; // include/uapi/linux/kvm.h

// Struct sizes on x86_64 (include/uapi/linux/kvm.h, arch/x86/include/uapi/asm/kvm.h).
export const SIZEOF_KVM_USERSPACE_MEMORY_REGION = 32; // u32 slot, u32 flags, u64 gpa, u64 size, u64 uaddr
export const SIZEOF_KVM_DIRTY_LOG = 16; // u32 slot, u32 pad, union { void *bitmap; u64 }
export const SIZEOF_KVM_CLEAR_DIRTY_LOG = 24; // u32 slot, u32 num_pages, u64 first_page, union { void *; u64 }
export const SIZEOF_KVM_ENABLE_CAP = 104; // u32 cap, u32 flags, u64 args[4], u8 pad[64]
export const SIZEOF_KVM_REGS = 144; // 18 × u64: rax … r15, rip, rflags
export const SIZEOF_KVM_SREGS = 312; // 8 × kvm_segment (24) + 2 × kvm_dtable (16) + 7 × u64 + u64[4]
export const SIZEOF_KVM_MSRS = 8; // struct kvm_msrs header: u32 nmsrs, u32 pad; entries follow (arch/x86/include/uapi/asm/kvm.h)
export const SIZEOF_KVM_MSR_ENTRY = 16; // u32 index, u32 reserved, u64 data (arch/x86/include/uapi/asm/kvm.h)
export const SIZEOF_KVM_CLOCK_DATA = 48; // u64 clock, u32 flags, u32 pad0, u64 realtime, u64 host_tsc, u32 pad[4]

// System ioctls (include/uapi/linux/kvm.h).
export const KVM_GET_API_VERSION = ioc(IOC_NONE, KVMIO, 0x00, 0); // _IO(KVMIO, 0x00)
export const KVM_CREATE_VM = ioc(IOC_NONE, KVMIO, 0x01, 0); // _IO(KVMIO, 0x01)
export const KVM_CHECK_EXTENSION = ioc(IOC_NONE, KVMIO, 0x03, 0); // _IO(KVMIO, 0x03)
export const KVM_GET_VCPU_MMAP_SIZE = ioc(IOC_NONE, KVMIO, 0x04, 0); // _IO(KVMIO, 0x04)
// VM ioctls.
export const KVM_CREATE_VCPU = ioc(IOC_NONE, KVMIO, 0x41, 0); // _IO(KVMIO, 0x41)
export const KVM_GET_DIRTY_LOG = ioc(IOC_WRITE, KVMIO, 0x42, SIZEOF_KVM_DIRTY_LOG); // _IOW(KVMIO, 0x42, struct kvm_dirty_log)
export const KVM_SET_USER_MEMORY_REGION = ioc(IOC_WRITE, KVMIO, 0x46, SIZEOF_KVM_USERSPACE_MEMORY_REGION); // _IOW(KVMIO, 0x46, …)
export const KVM_ENABLE_CAP = ioc(IOC_WRITE, KVMIO, 0xa3, SIZEOF_KVM_ENABLE_CAP); // _IOW(KVMIO, 0xa3, struct kvm_enable_cap)
export const KVM_SET_CLOCK = ioc(IOC_WRITE, KVMIO, 0x7b, SIZEOF_KVM_CLOCK_DATA); // _IOW(KVMIO, 0x7b, struct kvm_clock_data)
export const KVM_GET_CLOCK = ioc(IOC_READ, KVMIO, 0x7c, SIZEOF_KVM_CLOCK_DATA); // _IOR(KVMIO, 0x7c, struct kvm_clock_data)
export const KVM_CLEAR_DIRTY_LOG = ioc(IOC_READ | IOC_WRITE, KVMIO, 0xc0, SIZEOF_KVM_CLEAR_DIRTY_LOG); // _IOWR(KVMIO, 0xc0, …)
// vCPU ioctls.
export const KVM_RUN = ioc(IOC_NONE, KVMIO, 0x80, 0); // _IO(KVMIO, 0x80)
export const KVM_GET_REGS = ioc(IOC_READ, KVMIO, 0x81, SIZEOF_KVM_REGS); // _IOR(KVMIO, 0x81, struct kvm_regs)
export const KVM_SET_REGS = ioc(IOC_WRITE, KVMIO, 0x82, SIZEOF_KVM_REGS); // _IOW(KVMIO, 0x82, struct kvm_regs)
export const KVM_GET_SREGS = ioc(IOC_READ, KVMIO, 0x83, SIZEOF_KVM_SREGS); // _IOR(KVMIO, 0x83, struct kvm_sregs)
export const KVM_SET_SREGS = ioc(IOC_WRITE, KVMIO, 0x84, SIZEOF_KVM_SREGS); // _IOW(KVMIO, 0x84, struct kvm_sregs)
export const KVM_GET_MSRS = ioc(IOC_READ | IOC_WRITE, KVMIO, 0x88, SIZEOF_KVM_MSRS); // _IOWR(KVMIO, 0x88, struct kvm_msrs)
export const KVM_SET_MSRS = ioc(IOC_WRITE, KVMIO, 0x89, SIZEOF_KVM_MSRS); // _IOW(KVMIO, 0x89, struct kvm_msrs)
export const KVM_SET_TSC_KHZ = ioc(IOC_NONE, KVMIO, 0xa2, 0); // _IO(KVMIO, 0xa2)
export const KVM_GET_TSC_KHZ = ioc(IOC_NONE, KVMIO, 0xa3, 0); // _IO(KVMIO, 0xa3)
export const KVM_KVMCLOCK_CTRL = ioc(IOC_NONE, KVMIO, 0xad, 0); // _IO(KVMIO, 0xad)

// Capabilities kvmclock's ioctls answer to (include/uapi/linux/kvm.h).
export const KVM_CAP_ADJUST_CLOCK = 39; // include/uapi/linux/kvm.h: KVM_GET/SET_CLOCK; the answer is the flags GET can report
export const KVM_CAP_TSC_CONTROL = 60; // include/uapi/linux/kvm.h: TSC scaling (kvm_caps.has_tsc_control)
export const KVM_CAP_GET_TSC_KHZ = 61; // include/uapi/linux/kvm.h
export const KVM_CAP_KVMCLOCK_CTRL = 76; // include/uapi/linux/kvm.h

// struct kvm_run offsets (include/uapi/linux/kvm.h).
export const KVM_RUN_EXIT_REASON_OFFSET = 8; // after request_interrupt_window, immediate_exit, padding1[6]
export const KVM_RUN_EXIT_UNION_OFFSET = 32; // after if_flag, flags, cr8, apic_base

// Exit reasons (include/uapi/linux/kvm.h).
export const KVM_EXIT_UNKNOWN = 0; // include/uapi/linux/kvm.h
export const KVM_EXIT_EXCEPTION = 1; // include/uapi/linux/kvm.h
export const KVM_EXIT_IO = 2; // include/uapi/linux/kvm.h
export const KVM_EXIT_HLT = 5; // include/uapi/linux/kvm.h
export const KVM_EXIT_MMIO = 6; // include/uapi/linux/kvm.h
export const KVM_EXIT_SHUTDOWN = 8; // include/uapi/linux/kvm.h
export const KVM_EXIT_FAIL_ENTRY = 9; // include/uapi/linux/kvm.h
export const KVM_EXIT_INTERNAL_ERROR = 17; // include/uapi/linux/kvm.h

// libc (include/uapi/asm-generic/mman-common.h, mman.h; include/uapi/asm-generic/fcntl.h).
export const PROT_READ = 0x1; // include/uapi/asm-generic/mman-common.h
export const PROT_WRITE = 0x2; // include/uapi/asm-generic/mman-common.h
export const MAP_SHARED = 0x01; // include/uapi/linux/mman.h
export const MAP_PRIVATE = 0x02; // include/uapi/linux/mman.h
export const MAP_ANONYMOUS = 0x20; // include/uapi/asm-generic/mman-common.h
export const MAP_NORESERVE = 0x4000; // include/uapi/asm-generic/mman.h (x86)
export const O_RDWR = 0o2; // include/uapi/asm-generic/fcntl.h
export const O_CLOEXEC = 0o2000000; // include/uapi/asm-generic/fcntl.h
