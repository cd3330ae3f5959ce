// @kvmlab/ptp-kvm-x86: kvmclock (pvclock) and KVM_HC_CLOCK_PAIRING, host and guest.
import type { ScenarioDef } from '@kvmlab/hypervisor-core';
import { x86PtpSyncScenario } from './scenario/ptp-sync-scenario.js';

export * from './constants.js';
export * from './host/kvmclock-abi.js';
export { KVM_HC_CLOCK_PAIRING, KVM_CPUID_SIGNATURE, KVM_CPUID_FEATURES } from '@kvmlab/hypervisor-core';
export {
  decodeClockPairing,
  decodePvclock,
  encodeClockPairing,
  encodePvclock,
  encodePvclockInto,
  type KvmClockPairing,
  type PvclockVcpuTimeInfo,
} from './abi/pvclock-abi.js';

// host (KVM)
export {
  ptpKvmX86,
  ptpKvmX86Host,
  PTP_KVM_X86_PLUGIN,
  type PtpKvmX86Host,
  type PtpKvmX86Options,
  type PtpKvmX86Stats,
} from './host/plugin.js';
export { kvmGetTimeScale, divFrac, type TimeScale } from './host/time-scale.js';
export { kvmPvClockPairing, kvmGetWalltimeAndClockread } from './host/clock-pairing.js';
export type { KvmclockVcpuState, KvmclockVmState } from './host/kvmclock.js';

// guest (Linux)
export type { GuestLog, X86GuestCpu } from './guest/cpu.js';
export {
  pvclockReadCycles,
  pvclockScaleDelta,
  pvclockReadBegin,
  pvclockReadRetry,
  readPvti,
  pvclockTscKhz,
  PvclockLivelockError,
} from './guest/pvclock.js';
export { kvmClockClocksource, tscClocksource, type X86GuestClocksource } from './guest/clocksources.js';
export { TimedX86Cpu, type VmcallTiming } from './scenario/timed-cpu.js';
export { KvmclockGuest, kvmParaAvailable, kvmParaHasFeature, type KvmclockGuestOptions } from './guest/kvmclock.js';
export { PtpKvmX86Guest, type PtpKvmX86GuestOptions, type PtpKvmX86GuestStats } from './guest/ptp-kvm-x86.js';

// scenario
export { x86PtpSyncAdapter, X86_DEFAULT_VMCALL_LATENCY, X86_DEFAULT_KVMCLOCK_UPDATE_PERIOD_NS, type X86PtpSyncOptions, type X86PtpSyncProbe } from './scenario/ptp-sync-x86.js';
export { x86PtpSyncScenario, X86_PTP_SYNC_OPTIONS } from './scenario/ptp-sync-scenario.js';

/** Scenarios this package provides (the CLI registers every one). */
export const scenarios: readonly ScenarioDef[] = [x86PtpSyncScenario()];
