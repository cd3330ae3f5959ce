/**
 * The x86 ABI values of kvmclock and KVM_HC_CLOCK_PAIRING. Each is the kernel's value; the
 * comment names the header. KVM_HC_CLOCK_PAIRING and the -KVM_E* codes live in
 * hypervisor-core (it dispatches hypercalls) and are re-exported from this package's index.
 */

// --- arch/x86/include/uapi/asm/kvm_para.h: CPUID feature bits of KVM_CPUID_FEATURES (EAX) ---
export const KVM_FEATURE_CLOCKSOURCE = 0; // arch/x86/include/uapi/asm/kvm_para.h
export const KVM_FEATURE_CLOCKSOURCE2 = 3; // arch/x86/include/uapi/asm/kvm_para.h
export const KVM_FEATURE_CLOCKSOURCE_STABLE_BIT = 24; // arch/x86/include/uapi/asm/kvm_para.h

// --- arch/x86/include/uapi/asm/kvm_para.h: kvmclock MSRs ---
export const MSR_KVM_WALL_CLOCK = 0x11; // arch/x86/include/uapi/asm/kvm_para.h (deprecated)
export const MSR_KVM_SYSTEM_TIME = 0x12; // arch/x86/include/uapi/asm/kvm_para.h (deprecated)
export const MSR_KVM_WALL_CLOCK_NEW = 0x4b564d00; // arch/x86/include/uapi/asm/kvm_para.h
export const MSR_KVM_SYSTEM_TIME_NEW = 0x4b564d01; // arch/x86/include/uapi/asm/kvm_para.h
/** Bit 0 of the MSR_KVM_SYSTEM_TIME(_NEW) value: the area is enabled. */
export const KVM_MSR_ENABLED = 1; // arch/x86/include/uapi/asm/kvm_para.h

// --- arch/x86/include/uapi/asm/kvm_para.h: KVM_HC_CLOCK_PAIRING ---
export const KVM_CLOCK_PAIRING_WALLCLOCK = 0; // arch/x86/include/uapi/asm/kvm_para.h
/** sizeof(struct kvm_clock_pairing): s64 sec, s64 nsec, u64 tsc, u32 flags, u32 pad[9]. */
export const KVM_CLOCK_PAIRING_SIZE = 64; // arch/x86/include/uapi/asm/kvm_para.h
export const KVM_CLOCK_PAIRING_OFFSETS = { sec: 0, nsec: 8, tsc: 16, flags: 24, pad: 28 } as const; // same

// --- arch/x86/include/asm/pvclock-abi.h ---
/** sizeof(struct pvclock_vcpu_time_info), packed. */
export const PVCLOCK_VCPU_TIME_INFO_SIZE = 32; // arch/x86/include/asm/pvclock-abi.h
export const PVCLOCK_OFFSETS = {
  version: 0,
  pad0: 4,
  tscTimestamp: 8,
  systemTime: 16,
  tscToSystemMul: 24,
  tscShift: 28,
  flags: 29,
  pad: 30,
} as const; // arch/x86/include/asm/pvclock-abi.h
export const PVCLOCK_TSC_STABLE_BIT = 1 << 0; // arch/x86/include/asm/pvclock-abi.h
export const PVCLOCK_GUEST_STOPPED = 1 << 1; // arch/x86/include/asm/pvclock-abi.h

// --- arch/x86/kvm/x86.c ---
/** kvmclock_sync_fn() period: every vCPU's kvmclock is refreshed every 300 s. */
export const KVMCLOCK_SYNC_PERIOD_NS = 300n * 1_000_000_000n; // arch/x86/kvm/x86.c (300 * HZ)
/** kvm_gen_kvmclock_update(): the other vCPUs follow 100 ms after one vCPU's update. */
export const KVMCLOCK_UPDATE_DELAY_NS = 100_000_000n; // arch/x86/kvm/x86.c (msecs_to_jiffies(100))
/** tsc_tolerance_ppm: a requested TSC rate within ±250 ppm of the host's needs no scaling. */
export const TSC_TOLERANCE_PPM = 250n; // arch/x86/kvm/x86.c (module parameter default)
/** KVM_SET_TSC_KHZ refuses a rate at or above this (VMX: min(0x7fffffff, max ratio × tsc_khz)). */
export const KVM_MAX_GUEST_TSC_KHZ = 0x7fff_ffffn; // arch/x86/kvm/x86.c (kvm_max_guest_tsc_khz upper bound)

export const NSEC_PER_SEC = 1_000_000_000n; // include/vdso/time64.h
