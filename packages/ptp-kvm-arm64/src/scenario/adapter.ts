/**
 * The arm64 adapter of the ptp-sync harness (@kvmlab/ptp-kvm-core): a hypervisor with
 * psci-conduit (timing each HVC) and ptp-kvm-arm64, on the host each variant ran on — merged on
 * today's kernel, RFC v4 on its 5.3 base (RFC_V4_BASE_KERNEL) — `vcpus` vCPUs created
 * VCPU_CREATE_GAP_NS apart, a guest booted on the first from a "arm,psci-1.0" device-tree node
 * with method "hvc", and the merged or RFC v4 guest hooks (also bound to every other vCPU).
 */
import { createHypervisor } from '@kvmlab/hypervisor-core';
import type { PtpSyncArchAdapter, PtpSyncBuildInput, PtpSyncGuestSetup } from '@kvmlab/ptp-kvm-core';
import { psciConduit, psciDtInit, type GuestPsci } from '@kvmlab/psci-conduit';
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

/** The kernel the RFC v4 host runs on: it was posted (26 Sep 2019) against Will Deacon's kvm/hvc branch on 5.3. */
export const RFC_V4_BASE_KERNEL = '5.3';
/** Between two vCPU creations (an odd count of ns, so creations fall at different phases of the counter tick). */
export const VCPU_CREATE_GAP_NS = 1_000_003n;

export const arm64PtpSyncAdapter: PtpSyncArchAdapter = {
  arch: 'arm64',
  packageName: '@kvmlab/ptp-kvm-arm64',
  // Every method this arch can run (before variants, merged ran all three on one scenario).
  methods: ['precise', 'sys-offset', 'half-delay'],
  // none: a guest kernel without ptp_kvm (arm64 before 5.13) keeps NTP; rfc-v4: the RFC's
  // driver, whose gettime and cross-timestamp both add the half delay; merged: 5.13.
  variantMethods: {
    none: ['ntp'],
    'rfc-v4': ['half-delay', 'sys-offset'],
    merged: ['precise', 'sys-offset'],
  },
  defaultCounterHz: 25_000_000n,
  defaultLatency: ARM64_HVC_LATENCY,
  latencySource: ARM64_HVC_LATENCY_SOURCE,
  build(input: PtpSyncBuildInput): PtpSyncGuestSetup {
    // The RFC's method runs its driver whatever the run's variant says (as before variants).
    const variant = input.method === 'half-delay' ? 'rfc-v4' : input.variant === 'rfc-v4' ? 'rfc-v4' : input.variant === 'none' ? 'none' : 'merged';
    const hv = createHypervisor({
      arch: 'arm64',
      seed: input.seed,
      ...(variant === 'rfc-v4' ? { kernel: RFC_V4_BASE_KERNEL } : {}),
      // none: neither side has ptp_kvm (arm64 before 5.13): psci-conduit only.
      plugins: variant === 'none' ? [psciConduit({ latency: input.latency })] : [psciConduit({ latency: input.latency }), ptpKvmArm64({ variant })],
      host: { counterHz: input.counterHz, driftPpm: input.driftPpm },
    });
    if (input.trace === true) hv.trace.enabled = true;
    const vm = hv.createVm();
    const vcpu = vm.createVcpu(0);
    for (let k = 1; k < (input.vcpus ?? 1); k++) {
      hv.sim.runFor(VCPU_CREATE_GAP_NS);
      vm.createVcpu(k);
    }
    const psci = psciDtInit(vcpu, [{ compatible: ['arm,psci-1.0', 'arm,psci-0.2'], method: 'hvc' }]);
    if (variant === 'none') return { sim: hv.sim, host: hv.host, clocksource: archSysCounter(vcpu, 'virt'), trace: hv.trace };
    const hooksOn = (v: typeof vcpu, p: GuestPsci) => (variant === 'merged' ? new PtpKvmArmGuest(p) : new PtpKvmArmRfcV4Guest(p.firmware, v));
    const hooks = hooksOn(vcpu, psci);
    const otherCpus = vm.vcpus.slice(1).map((v) => hooksOn(v, { ...psci, firmware: psci.firmware.onCpu(v) }));
    return { sim: hv.sim, host: hv.host, clocksource: archSysCounter(vcpu, 'virt'), hooks, trace: hv.trace, otherCpus };
  },
};
