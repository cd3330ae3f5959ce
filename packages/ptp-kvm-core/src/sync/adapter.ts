/**
 * The arch adapter the ptp-sync harness (run-ptp-sync.ts) is parameterized by. An arch package
 * (ptp-kvm-arm64, ptp-kvm-x86) implements it: how to build a hypervisor with its ptp_kvm host
 * plugin and a guest with its arch hooks, and what its hypercall round trip costs. The harness
 * owns everything arch-independent: the guest's timekeeping, ptp_kvm_common, the methods, the
 * servo, the statistics and the scenario result.
 */
import type { Arch, HostClock, Latency, Simulation, Tracer } from '@kvmlab/hypervisor-core';
import type { PtpKvmArchHooks } from '../arch-hooks.js';
import type { GuestClocksource } from '../guest/clocksource.js';
import type { StealModel } from './error-sources.js';

/**
 * How the guest measures its offset from the PHC:
 * - 'precise': PTP_SYS_OFFSET_PRECISE (crosststamp) on the merged driver — chrony's mode 2;
 * - 'sys-offset': PTP_SYS_OFFSET bracketed reads on the merged driver (phc2sys without -R…, chrony `nocrossts`);
 * - 'half-delay': PTP_SYS_OFFSET_PRECISE on the RFC v4 driver, whose arch hook adds half the
 *   measured hypercall round trip to the device time (only arches that had that RFC).
 */
export type PtpSyncMethod = 'precise' | 'sys-offset' | 'half-delay' | 'ntp';

/**
 * What the guest kernel has, as the real change switched it:
 * - 'none': no ptp_kvm in the guest (before the series; a kernel built without
 *   PTP_1588_CLOCK_KVM): no PHC, the guest disciplines its clock over NTP to the host (method 'ntp');
 * - 'rfc-v4': arm64, the 26 Sep 2019 series as posted (method 'half-delay', and PTP_SYS_OFFSET on
 *   the same driver: its gettime adds the half delay too);
 * - 'merged': 5.13 on arm64 (x86: since 4.11): methods 'precise' and 'sys-offset'.
 */
export type PtpSyncVariant = 'none' | 'rfc-v4' | 'merged';

/** Entry (guest trap → host handler reads the clock) and exit (→ guest resumes) latency. */
export interface HypercallLatency {
  readonly entry: Latency;
  readonly exit: Latency;
  /** vCPU preemption inside the trap (error-sources.ts), added to the exit; absent: none. */
  readonly steal?: StealModel;
}

/** What the harness asks the adapter to build, once per method, each from the same seed. */
export interface PtpSyncBuildInput {
  readonly method: PtpSyncMethod;
  /** The variant of the run (absent: 'merged', as before variants existed). */
  readonly variant?: PtpSyncVariant;
  readonly seed: number;
  /** The host counter frequency (CNTFRQ_EL0 / TSC Hz). */
  readonly counterHz: bigint;
  /** The host counter's true-rate error, ppm (the host's NTP corrects its own clock; the guest's is not). */
  readonly driftPpm: number;
  /** Hypercall latency the host side must apply (elapse entry before reading the clock, exit after). */
  readonly latency: HypercallLatency;
  /** vCPUs the VMM creates (default 1), at different instants; the guest boots on the first. */
  readonly vcpus?: number;
  /** Record trace events from the start (so the guest's boot — its kvmclock MSR writes — is in the trace). */
  readonly trace?: boolean;
}

/** What the adapter returns: a booted guest whose ptp_kvm arch hooks are ready for ptp_kvm_init(). */
export interface PtpSyncGuestSetup {
  /** hv.sim of the hypervisor the guest runs on (the harness schedules the poll loop on it). */
  readonly sim: Simulation;
  /** hv.host: the reference the model's errors are measured against. */
  readonly host: HostClock;
  /** The guest clocksource the guest's timekeeping reads (through the architectural boundary). */
  readonly clocksource: GuestClocksource;
  /** The arch hooks ptp_kvm_common will call (init first); absent for a guest without ptp_kvm (method 'ntp'). */
  readonly hooks?: PtpKvmArchHooks;
  /** Optional: hv.trace, so a traced run records the hypercalls beside the harness's events. */
  readonly trace?: Tracer;
  /** The same guest driver's arch hooks issuing their calls on each other vCPU (vcpus > 1). */
  readonly otherCpus?: readonly PtpKvmArchHooks[];
}

export interface PtpSyncArchAdapter {
  readonly arch: Arch;
  /** Package that provides the scenario (ScenarioDef.package). */
  readonly packageName: string;
  /** The methods of the merged variant (arm64 before variants: all three; x86: 'precise' and 'sys-offset'). */
  readonly methods: readonly PtpSyncMethod[];
  /** Variants in demo order (pre-fix first) and the methods each runs; absent: only 'merged', running `methods`. */
  readonly variantMethods?: Readonly<Partial<Record<PtpSyncVariant, readonly PtpSyncMethod[]>>>;
  /** Default host counter frequency. */
  readonly defaultCounterHz: bigint;
  /** Default hypercall latency model. */
  readonly defaultLatency: HypercallLatency;
  /** Where the default latencies come from (shown in the result details). */
  readonly latencySource: string;
  build(input: PtpSyncBuildInput): PtpSyncGuestSetup;
}
