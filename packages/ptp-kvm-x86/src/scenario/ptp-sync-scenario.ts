/**
 * `ptp-sync --arch x86_64`: ptp-kvm-core's harness (same servo, methods and figures as arm64)
 * on the x86 adapter, plus what only x86 has: the guest TSC rate, how often the host rewrites
 * kvmclock, and how often that made a cross-timestamp's pvclock loop go round again.
 */
import type { ScenarioDef, ScenarioFigure, ScenarioOptionSpec, ScenarioResult, ScenarioRunInput } from '@kvmlab/hypervisor-core';
import { definePtpSyncScenario, PTP_SYNC_METHOD_LABEL, ptpSyncMethodsOf, runPtpSync } from '@kvmlab/ptp-kvm-core';
import { x86PtpSyncAdapter, X86_DEFAULT_KVMCLOCK_UPDATE_PERIOD_NS } from './ptp-sync-x86.js';
import { runRetryProbe } from './retry-probe.js';

export const X86_PTP_SYNC_OPTIONS: Readonly<Record<string, ScenarioOptionSpec>> = {
  kvmclockUpdateUs: {
    type: 'number',
    default: Number(X86_DEFAULT_KVMCLOCK_UPDATE_PERIOD_NS / 1000n),
    min: 1,
    max: 300_000_000,
    unit: 'µs',
    description: 'the host rewrites every vCPU\'s kvmclock this often (default 100 ms = KVMCLOCK_UPDATE_DELAY; kvmclock_sync_fn alone is every 300 s)',
  },
  kvmclockMasterclock: {
    type: 'boolean',
    default: false,
    description: 'take a new master clock snapshot at each rewrite (otherwise only the version changes)',
  },
  guestTscKhz: {
    type: 'number',
    default: 0,
    min: 0,
    max: 10_000_000,
    integer: true,
    unit: 'kHz',
    description: 'guest TSC rate set with KVM_SET_TSC_KHZ (0: the host rate)',
  },
  retryProbeReads: {
    type: 'number',
    default: 5000,
    min: 0,
    max: 1_000_000,
    integer: true,
    description: 'retry probe: back-to-back PTP_SYS_OFFSET_PRECISE reads (0: skip)',
  },
  retryProbeUpdateUs: {
    type: 'number',
    default: 20,
    min: 1,
    max: 1_000_000,
    unit: 'µs',
    description: 'retry probe: how often the host rewrites kvmclock meanwhile',
  },
  guestClocksource: {
    type: 'enum',
    default: 'kvm-clock',
    values: ['kvm-clock', 'tsc'],
    description: "the guest's current clocksource (tsc: PTP_SYS_OFFSET_PRECISE fails with ENODEV)",
  },
};

function runX86(input: ScenarioRunInput): ScenarioResult {
  const o = input.options;
  const adapter = x86PtpSyncAdapter({
    kvmclockUpdatePeriodNs: BigInt(Math.round(Number(o['kvmclockUpdateUs'] ?? Number(X86_DEFAULT_KVMCLOCK_UPDATE_PERIOD_NS / 1000n)) * 1000)),
    masterclock: o['kvmclockMasterclock'] === true,
    guestTscKhz: BigInt(Math.round(Number(o['guestTscKhz'] ?? 0))),
    guestClocksource: o['guestClocksource'] === 'tsc' ? 'tsc' : 'kvm-clock',
  });
  const r = runPtpSync(adapter, input);
  const methods = ptpSyncMethodsOf(adapter, input.variant === 'none' ? 'none' : 'merged');
  const perMethod = methods.map((m, i) => {
    const p = adapter.probes[i]?.();
    return {
      method: m,
      label: PTP_SYNC_METHOD_LABEL[m],
      vmcalls: p?.guest.hypercalls ?? 0,
      crosststamps: p?.guest.crosststamps ?? 0,
      pvclockRetries: p?.guest.pvclockRetries ?? 0,
      kvmclockReadRetries: p?.kvmclockReadRetries ?? 0,
      kvmclockUpdates: p?.host.pvclockUpdates ?? 0,
    };
  });
  const extra: ScenarioFigure[] = perMethod.flatMap((m) => [
    { label: `${m.label}: pvclock retries (hypercall re-issued)`, value: m.pvclockRetries },
    { label: `${m.label}: cross-timestamps`, value: m.crosststamps },
    { label: `${m.label}: VMCALLs`, value: m.vmcalls },
    { label: `${m.label}: kvmclock rewrites by the host`, value: m.kvmclockUpdates },
  ]);
  const retries = perMethod.reduce((a, m) => a + m.pvclockRetries, 0);
  const reads = Number(o['retryProbeReads'] ?? 0);
  const probe =
    reads > 0 && o['guestClocksource'] !== 'tsc' && input.variant !== 'none' // no ptp_kvm, no cross-timestamps to probe
      ? runRetryProbe({
          seed: input.seed,
          counterHz: BigInt(Math.round(Number(o['counterHz'] ?? Number(adapter.defaultCounterHz)))),
          latency: adapter.defaultLatency,
          updatePeriodNs: BigInt(Math.round(Number(o['retryProbeUpdateUs'] ?? 20) * 1000)),
          crosststamps: reads,
          think: { kind: 'exponential', meanNs: 5_000 },
        })
      : undefined;
  if (probe !== undefined) {
    const per1000 = (probe.pvclockRetries / Math.max(1, probe.crosststamps)) * 1000;
    extra.push(
      { label: 'retry probe: cross-timestamps', value: probe.crosststamps },
      { label: 'retry probe: kvmclock rewrites', value: probe.kvmclockRewrites },
      { label: 'retry probe: pvclock retries', value: probe.pvclockRetries },
      { label: 'retry probe: retries per 1000 cross-timestamps', value: Number(per1000.toFixed(1)) },
      { label: 'retry probe: predicted per 1000 (round trip / rewrite period)', value: Number((probe.predictedRate * 1000).toFixed(1)) },
      { label: 'retry probe: extra VMCALLs', value: probe.vmcalls - 1 - probe.crosststamps },
    );
  }
  return {
    ...r,
    summary: `${r.summary}; pvclock retries ${retries}${probe === undefined ? '' : ` (retry probe: ${probe.pvclockRetries} in ${probe.crosststamps} back-to-back reads)`}`,
    figures: [...r.figures, ...extra],
    details: { ...r.details, x86: { options: { ...o }, perMethod, retryProbe: probe ?? null } },
  };
}

/** The x86 `ptp-sync` scenario. */
export function x86PtpSyncScenario(): ScenarioDef {
  const base = definePtpSyncScenario(x86PtpSyncAdapter());
  return {
    ...base,
    description: `${base.description}; x86: VMCALL latencies, a TSC of any rate, periodic kvmclock rewrites and the pvclock retries they cause`,
    options: { ...base.options, ...X86_PTP_SYNC_OPTIONS },
    // Beyond the shared harness: each method's kvmclock rewrites (every vCPU, each period), and the
    // retry probe's reads with the rewrites that happen meanwhile (~5 µs think time per read).
    estimate: (o, arch) => {
      const b = base.estimate!(o, arch);
      const n = (k: string): number => o[k] as number;
      const rewrites = (n('durationS') * 1e6 / n('kvmclockUpdateUs')) * n('vcpus') * x86PtpSyncAdapter().methods.length;
      const probeReads = o['guestClocksource'] === 'tsc' ? 0 : n('retryProbeReads');
      const probe = probeReads * (10 + 6 / n('retryProbeUpdateUs'));
      return { memoryBytes: b.memoryBytes, events: b.events + rewrites * 5 + probe };
    },
    run: runX86,
  };
}
