/**
 * The four arch hooks of the ptp_kvm guest driver (drivers/ptp/ptp_kvm_common.c calls them;
 * ptp_kvm_arm.c / ptp_kvm_x86.c implement them). Failures throw a KvmError with the errno the
 * kernel hook would return (e.g. EOPNOTSUPP when the host offers no service).
 */
import type { ClocksourceId } from '@kvmlab/hypervisor-core';

/** struct timespec64, in bigint (realtime seconds × 1e9 does not fit a double). */
export interface Timespec64 {
  readonly sec: bigint;
  readonly nsec: bigint;
}

export interface PtpKvmCrosststamp {
  /** The guest counter value the device time corresponds to (CNTVCT/CNTPCT or kvmclock TSC). */
  readonly cycles: bigint;
  /** The host's CLOCK_REALTIME at that instant. */
  readonly deviceTime: Timespec64;
  /** Which guest clocksource `cycles` belongs to. */
  readonly csId: ClocksourceId;
}

export interface PtpKvmArchHooks {
  /** kvm_arch_ptp_init(). */
  init(): void;
  /** kvm_arch_ptp_get_clock(): the host's realtime. */
  getClock(): Timespec64;
  /** kvm_arch_ptp_get_crosststamp(). */
  getCrosststamp(): PtpKvmCrosststamp;
  /** kvm_arch_ptp_exit(). */
  exit(): void;
}
