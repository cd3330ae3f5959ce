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
  PtpSyncVariant,
} from './sync/adapter.js';

/** Scenarios this package provides: none runnable by itself (the arch packages export ptp-sync). */
export const scenarios: readonly ScenarioDef[] = [];
export { definePtpSyncScenario } from './sync/scenario.js';
export { runPtpSync, runPtpSyncReport, ptpSyncVariants, MIN_CONVERGED_SHARE, ptpSyncMethodsOf, PTP_SYNC_METHOD_LABEL, type MethodSummary, type PtpSyncReport } from './sync/run-ptp-sync.js';
export {
  drawSteal,
  scheduleHostNtpSlew,
  HOST_NTP_SLEW_SD_PPB,
  HOST_NTP_POLL_LOG2,
  STEAL_DURATION,
  STEAL_MEDIAN_US,
  STEAL_GSD,
  PTP_SYNC_ERROR_SOURCES,
  PRECISE_IDEAL_BOUND_NS,
  PRECISE_IDEAL_BOUND_NS_X86,
  preciseIdealBoundNs,
  type ErrorSourceInfo,
  type HostNtpSlew,
  type StealModel,
} from './sync/error-sources.js';
export { ntpExchange, scaleNicPath, VIRTIO_NET_NTP_PATH, type NicPath } from './sync/ntp-nic.js';
export { chronyView, chronyTime, NTP_SERVER_NAME, type ChronyInput, type ChronySource, type ChronyTracking, type ChronyView } from './sync/chrony-report.js';
export { concludeMethod, ptpSyncVerdict, HIDDEN_BIAS_NS, PRIMARY_METHOD, type MethodConclusion } from './sync/conclusion.js';
export { runMethod, type MethodTrace, type PtpSyncParams } from './sync/run-method.js';
export { PiServo, PI_KP_SCALE, PI_KI_SCALE, PI_KP_NORM_MAX, PI_KI_NORM_MAX, FIRST_STEP_THRESHOLD_NS, MAX_PPB, type ServoOutput, type ServoState, type PiServoOptions } from './sync/pi-servo.js';
export { measurePrecise, measureSysOffset, type OffsetSample } from './sync/methods.js';
export { offsetStats, percentile, convergenceIndex, type OffsetStats } from './sync/stats.js';
export { piClockServo, type ClockServo, type ServoAction } from './sync/servo.js';
export { chronyClockServo, medianFilter, type ChronyServoOptions } from './sync/chrony-servo.js';
