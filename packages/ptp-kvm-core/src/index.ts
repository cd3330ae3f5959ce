// @kvmlab/ptp-kvm-core: the arch-independent ptp_kvm guest driver, the guest timekeeping it
// cross-timestamps against, the PTP clock user API, and the ptp-sync harness.
import type { ScenarioDef } from '@kvmlab/hypervisor-core';

export type { PtpKvmArchHooks, PtpKvmCrosststamp, Timespec64 } from './arch-hooks.js';
export * from './constants.js';
export type { GuestClocksource } from './guest/clocksource.js';
export { nsToTimespec64, timespec64ToNs, NSEC_PER_SEC } from './guest/timespec.js';
export {
  GuestTimekeeper,
  SHIFT_USEC,
  type DeviceCrosststamp,
  type GuestTimekeeperOptions,
  type GuestTimekeeperStats,
  type SystemDeviceCrosststamp,
} from './guest/timekeeping.js';
export type { PtpClockInfo } from './ptp/clock-info.js';
export { PtpClock, type PtpClockCaps, type PtpSysOffsetPrecise, type Timex } from './ptp/ptp-clock.js';
export {
  ptpKvmClockInfo,
  ptpKvmInit,
  PtpClockRegistry,
  type KernelLog,
  type PtpKvmDriver,
} from './ptp/ptp-kvm-common.js';
export type {
  HypercallLatency,
  PtpSyncArchAdapter,
  PtpSyncBuildInput,
  PtpSyncGuestSetup,
  PtpSyncMethod,
} from './sync/adapter.js';

/** Scenarios this package provides: none runnable by itself (the arch packages export ptp-sync). */
export const scenarios: readonly ScenarioDef[] = [];
