// @kvmlab/ptp-kvm-arm64: "ptp: arm64: Enable ptp_kvm for arm64" and "kvm: arm64: Add capability
// check extension for ptp_kvm" — the host PTP vendor service, KVM_CAP_PTP_KVM, the arm64 guest
// hooks (merged and RFC v4) and the arm64 ptp-sync scenario.
import type { ScenarioDef } from '@kvmlab/hypervisor-core';
import { definePtpSyncScenario } from '@kvmlab/ptp-kvm-core';
import { arm64PtpSyncAdapter } from './scenario/adapter.js';

export * from './constants.js';
export { splitHiLo, joinHiLo } from './abi.js';
// host (KVM)
export { ptpKvmArm64, PTP_KVM_ARM64_PLUGIN, type PtpKvmArm64Options } from './host/plugin.js';
export { kvmPtpGetTime } from './host/ptp-service.js';
// guest (Linux)
export { archSysCounter, archSchedClock, archCounterKind, ARCH_COUNTER_MASK_BITS, type ArchTimerPpi } from './guest/arch-timer.js';
export { PtpKvmArmGuest, decodePtpReply, type PtpKvmArmGuestOptions, type PtpKvmReply } from './guest/ptp-kvm-arm.js';
export { PtpKvmArmRfcV4Guest, type RfcV4Reply } from './guest/ptp-kvm-arm-rfc-v4.js';
// scenario
export { arm64PtpSyncAdapter, ARM64_HVC_LATENCY, ARM64_HVC_LATENCY_SOURCE, RFC_V4_BASE_KERNEL, VCPU_CREATE_GAP_NS } from './scenario/adapter.js';

export const ptpSyncScenario: ScenarioDef = definePtpSyncScenario(arm64PtpSyncAdapter);

/** Scenarios this package provides (the CLI registers every one). */
export const scenarios: readonly ScenarioDef[] = [ptpSyncScenario];
