/**
 * The VMM side of kvmclock's ABI: KVM_GET_CLOCK / KVM_SET_CLOCK's struct kvm_clock_data and
 * its flags, struct pvclock_wall_clock, and the kernel eras whose behaviour differs. Each value
 * is the kernel's; the comment names the header (ioctl request numbers live in linux-kvm).
 */

// --- include/uapi/linux/kvm.h: struct kvm_clock_data flags ---
/** The clock is the master clock: the same on every vCPU (use_master_clock). */
export const KVM_CLOCK_TSC_STABLE = 2; // include/uapi/linux/kvm.h
/** `realtime` is valid (GET), or is used to advance `clock` (SET). Added in 5.16. */
export const KVM_CLOCK_REALTIME = 1 << 2; // include/uapi/linux/kvm.h
/** `host_tsc` is the host TSC `clock` was read at. Added in 5.16. */
export const KVM_CLOCK_HOST_TSC = 1 << 3; // include/uapi/linux/kvm.h
/** KVM_CLOCK_VALID_FLAGS: what KVM_SET_CLOCK accepts from 5.16 (5.4 accepts only 0). */
export const KVM_CLOCK_VALID_FLAGS = KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC; // arch/x86/kvm/x86.c
/**
 * sizeof(struct kvm_clock_data): u64 clock@0, u32 flags@8, then (5.16+) u32 pad0@12,
 * u64 realtime@16, u64 host_tsc@24, u32 pad[4]@32; 5.4 has u32 pad[9]@12. 48 bytes in both.
 */
export const KVM_CLOCK_DATA_SIZE = 48; // include/uapi/linux/kvm.h
export const KVM_CLOCK_DATA_OFFSETS = { clock: 0, flags: 8, realtime: 16, hostTsc: 24 } as const; // include/uapi/linux/kvm.h

// --- include/uapi/linux/kvm.h: capabilities the kvmclock ioctls answer to ---
export const KVM_CAP_ADJUST_CLOCK = 39; // include/uapi/linux/kvm.h (answers the flags KVM_GET_CLOCK can report)
export const KVM_CAP_TSC_CONTROL = 60; // include/uapi/linux/kvm.h
export const KVM_CAP_GET_TSC_KHZ = 61; // include/uapi/linux/kvm.h
export const KVM_CAP_KVMCLOCK_CTRL = 76; // include/uapi/linux/kvm.h

// --- arch/x86/include/asm/pvclock-abi.h ---
/** sizeof(struct pvclock_wall_clock), packed: u32 version, u32 sec, u32 nsec. */
export const PVCLOCK_WALL_CLOCK_SIZE = 12; // arch/x86/include/asm/pvclock-abi.h
export const PVCLOCK_WALL_CLOCK_OFFSETS = { version: 0, sec: 4, nsec: 8 } as const; // arch/x86/include/asm/pvclock-abi.h

// --- arch/x86/include/asm/msr-index.h ---
/** The guest TSC; KVM_GET_MSRS reads it as kvm_read_l1_tsc() of the host TSC now. */
export const MSR_IA32_TSC = 0x10; // arch/x86/include/asm/msr-index.h

/**
 * The arch/x86/kvm/x86.c releases whose kvmclock ioctls this package follows: '5.4' (the
 * series' release, /work/k54) and '6.18' (mainline, checked against a running 6.18 kernel).
 */
export type KvmclockEra = '5.4' | '6.18';

/** struct kvm_clock_data as KVM_GET_CLOCK fills it and KVM_SET_CLOCK reads it. */
export interface KvmClockData {
  readonly clock: bigint;
  readonly flags: number;
  /** 6.18 with KVM_CLOCK_REALTIME: CLOCK_REALTIME (ns) at `clock`; 0 otherwise. */
  readonly realtime: bigint;
  /** 6.18 with KVM_CLOCK_HOST_TSC: the host TSC at `clock`; 0 otherwise. */
  readonly hostTsc: bigint;
}

/** One struct kvm_msr_entry of KVM_SET_MSRS / KVM_GET_MSRS. */
export interface KvmMsrEntry {
  readonly index: number;
  readonly value: bigint;
}
