/**
 * The arm64 adapter of the ptp-sync harness (@kvmlab/ptp-kvm-core): a hypervisor with
 * psci-conduit (timing each HVC) and ptp-kvm-arm64, one vCPU, a guest booted from a
 * "arm,psci-1.0" device-tree node with method "hvc", and the merged or RFC v4 guest hooks.
 */
import { createHypervisor } from '@kvmlab/hypervisor-core';
import type { PtpSyncArchAdapter, PtpSyncBuildInput, PtpSyncGuestSetup } from '@kvmlab/ptp-kvm-core';
import { psciConduit, psciDtInit } from '@kvmlab/psci-conduit';
import { archSysCounter } from '../guest/arch-timer.js';
import { PtpKvmArmGuest } from '../guest/ptp-kvm-arm.js';
import { PtpKvmArmRfcV4Guest } from '../guest/ptp-kvm-arm-rfc-v4.js';
import { ptpKvmArm64 } from '../host/plugin.js';

/**
 * Default HVC latency: a lognormal entry (trap, save guest context, dispatch to the handler
 * up to ktime_get_snapshot) with median 800 ns and a lognormal exit (restore, ERET) with
 * median 450 ns, both with geometric SD 1.25. Source: Dall et al., "ARM Virtualization:
 * Performance and Architectural Implications" (ISCA 2016) measured a KVM/ARM hypercall round
 * trip at ~6,500 cycles without VHE (~2.7 µs at 2.4 GHz) and found VHE removes most of the
 * world-switch cost; ~1.25 µs is taken for a VHE-era host. The 64/36 entry/exit split is an
 * assumption (entry does the handler's work before the snapshot), not a measurement.
 */
export const ARM64_HVC_LATENCY = {
  entry: { kind: 'lognormal', medianNs: 800, gsd: 1.25 },
  exit: { kind: 'lognormal', medianNs: 450, gsd: 1.25 },
} as const;

export const ARM64_HVC_LATENCY_SOURCE =
  'Dall et al., ISCA 2016 (KVM/ARM hypercall ~6,500 cycles without VHE; VHE removes most world-switch cost): ~1.25 µs round trip assumed, split 800/450 ns entry/exit (assumption)';

export const arm64PtpSyncAdapter: PtpSyncArchAdapter = {
  arch: 'arm64',
  packageName: '@kvmlab/ptp-kvm-arm64',
  methods: ['precise', 'sys-offset', 'half-delay'],
  defaultCounterHz: 25_000_000n,
  defaultLatency: ARM64_HVC_LATENCY,
  latencySource: ARM64_HVC_LATENCY_SOURCE,
  build(input: PtpSyncBuildInput): PtpSyncGuestSetup {
    const variant = input.method === 'half-delay' ? 'rfc-v4' : 'merged';
    const hv = createHypervisor({
      arch: 'arm64',
      seed: input.seed,
      plugins: [psciConduit({ latency: input.latency }), ptpKvmArm64({ variant })],
      host: { counterHz: input.counterHz, driftPpm: input.driftPpm },
    });
    const vm = hv.createVm();
    const vcpu = vm.createVcpu(0);
    const psci = psciDtInit(vcpu, [{ compatible: ['arm,psci-1.0', 'arm,psci-0.2'], method: 'hvc' }]);
    const hooks = variant === 'merged' ? new PtpKvmArmGuest(psci) : new PtpKvmArmRfcV4Guest(psci.firmware, vcpu);
    return { sim: hv.sim, host: hv.host, clocksource: archSysCounter(vcpu, 'virt'), hooks, trace: hv.trace };
  },
};
