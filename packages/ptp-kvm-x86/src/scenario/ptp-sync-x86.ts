/**
 * The x86 arch adapter of ptp-kvm-core's ptp-sync harness: an x86 KVM host with a TSC of the
 * requested frequency and this package's plugin (kvmclock rewritten periodically), and a
 * guest that boots kvm-clock and hands the ptp_kvm_x86 hooks to the common driver. Each
 * VMCALL takes a drawn entry and exit latency, so a kvmclock update can land inside a
 * cross-timestamp and make its pvclock loop go round again.
 */
import { createHypervisor, type Vcpu } from '@kvmlab/hypervisor-core';
import type { HypercallLatency, PtpSyncArchAdapter, PtpSyncBuildInput, PtpSyncGuestSetup } from '@kvmlab/ptp-kvm-core';
import { kvmClockClocksource, tscClocksource } from '../guest/clocksources.js';
import { KvmclockGuest } from '../guest/kvmclock.js';
import { PtpKvmX86Guest, type PtpKvmX86GuestStats } from '../guest/ptp-kvm-x86.js';
import { ptpKvmX86, ptpKvmX86Host, type PtpKvmX86Stats } from '../host/plugin.js';
import { TimedX86Cpu } from './timed-cpu.js';

/** Guest memory layout of the scenario's VM (one 16 MiB slot at GPA 0). */
const RAM_SIZE = 16n << 20n;
const PVTI_GPA = 0x1000n; // hv_clock_boot[0]
const CLOCK_PAIR_GPA = 0x2000n; // clock_pair_glbl

export interface X86PtpSyncOptions {
  /** How often the host rewrites kvmclock (kvmclock_sync_fn; the kernel uses 300 s). */
  readonly kvmclockUpdatePeriodNs?: bigint;
  /** Take a new master clock snapshot at each update (default false: same values, new version). */
  readonly masterclock?: boolean;
  /** Guest TSC rate (KVM_SET_TSC_KHZ); 0 = the host rate. */
  readonly guestTscKhz?: bigint;
  /** The guest's current clocksource (with 'tsc', PRECISE fails with ENODEV: spec case 32). */
  readonly guestClocksource?: 'kvm-clock' | 'tsc';
}

/** What one built guest reports after a run (the harness owns the run; these are x86 extras). */
export interface X86PtpSyncProbe {
  readonly guest: Readonly<PtpKvmX86GuestStats>;
  readonly kvmclockReads: number;
  readonly kvmclockReadRetries: number;
  readonly host: Readonly<PtpKvmX86Stats>;
  readonly vcpu: Vcpu;
}

/**
 * VMCALL latency on a 2019-era Intel host: a VM exit plus entry costs on the order of 1 µs;
 * KVM's handler reads the clock between them. Log-normal, medians 550 / 450 ns.
 */
export const X86_DEFAULT_VMCALL_LATENCY: HypercallLatency = {
  entry: { kind: 'lognormal', medianNs: 550, gsd: 1.3 },
  exit: { kind: 'lognormal', medianNs: 450, gsd: 1.3 },
};

/**
 * How often the scenario's host rewrites every kvmclock: 100 ms, the rate limit KVM puts on
 * updates of all vCPUs' kvmclocks (KVMCLOCK_UPDATE_DELAY, arch/x86/kvm/x86.c). Linux's periodic
 * sync alone is every 300 s; a shorter period exercises the guest's retry loop more often.
 */
export const X86_DEFAULT_KVMCLOCK_UPDATE_PERIOD_NS = 100_000_000n;

/** The adapter, plus `probes`: one entry per guest it built, in build order. */
export function x86PtpSyncAdapter(opts: X86PtpSyncOptions = {}): PtpSyncArchAdapter & { readonly probes: readonly (() => X86PtpSyncProbe)[] } {
  const probes: (() => X86PtpSyncProbe)[] = [];
  return {
    arch: 'x86_64',
    packageName: '@kvmlab/ptp-kvm-x86',
    methods: ['precise', 'sys-offset'],
    // none: a guest kernel built without PTP_1588_CLOCK_KVM (x86 has had it since 4.11) keeps
    // NTP over virtio-net; merged: kvmclock + KVM_HC_CLOCK_PAIRING. x86 had no RFC of its own.
    variantMethods: { none: ['ntp'], merged: ['precise', 'sys-offset'] },
    defaultCounterHz: 2_500_000_000n,
    defaultLatency: X86_DEFAULT_VMCALL_LATENCY,
    latencySource:
      'estimate: a VMX exit + entry round trip of ~1 µs on 2019-era Intel hosts (no published figure for KVM_HC_CLOCK_PAIRING itself)',
    probes,
    build(input: PtpSyncBuildInput): PtpSyncGuestSetup {
      const hv = createHypervisor({
        arch: 'x86_64',
        seed: input.seed,
        host: { clocksource: 'tsc', counterHz: input.counterHz, driftPpm: input.driftPpm },
        plugins: [
          ptpKvmX86({
            periodicSync: {
              periodNs: opts.kvmclockUpdatePeriodNs ?? X86_DEFAULT_KVMCLOCK_UPDATE_PERIOD_NS,
              masterclock: opts.masterclock ?? false,
            },
          }),
        ],
      });
      if (input.trace === true) hv.trace.enabled = true;
      const vm = hv.createVm();
      vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: RAM_SIZE });
      const vcpu = vm.createVcpu(0);
      if (opts.guestTscKhz !== undefined && opts.guestTscKhz !== 0n) ptpKvmX86Host(hv).setTscKhz(vcpu, opts.guestTscKhz);
      // The guest from here on: only its vCPU's instructions and its own memory.
      const cpu = new TimedX86Cpu(vcpu, hv.sim, input.latency);
      const kvmclock = new KvmclockGuest(cpu, { pvtiGpa: PVTI_GPA });
      kvmclock.init();
      const hooks = input.method === 'ntp' ? undefined : new PtpKvmX86Guest(cpu, { kvmclock, clockPairGpa: CLOCK_PAIR_GPA });
      const clocksource = opts.guestClocksource === 'tsc' ? tscClocksource(cpu, kvmclock) : kvmClockClocksource(kvmclock);
      const hostApi = ptpKvmX86Host(hv);
      probes.push(() => ({
        guest: hooks?.stats ?? { hypercalls: 0, crosststamps: 0, pvclockRetries: 0 },
        kvmclockReads: kvmclock.stats.reads,
        kvmclockReadRetries: kvmclock.stats.retries,
        host: hostApi.stats,
        vcpu,
      }));
      return { sim: hv.sim, host: hv.host, clocksource, trace: hv.trace, ...(hooks !== undefined ? { hooks } : {}) };
    },
  };
}
