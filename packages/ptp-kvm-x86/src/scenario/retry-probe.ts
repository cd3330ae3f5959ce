/**
 * The x86 scenario's retry probe: back-to-back PTP_SYS_OFFSET_PRECISE reads (a busy
 * `phc2sys -O 0 -s /dev/ptp0 -R` at a high rate) while the host rewrites kvmclock every few
 * µs, to exercise the crosststamp's pvclock loop. A rewrite that lands between the guest's
 * first version read and its re-read (the VMCALL round trip lies in between) makes the loop
 * go round again and re-issue the hypercall; the rate follows from the mechanism.
 */
import { drawLatency, type Latency } from '@kvmlab/hypervisor-core';
import { GuestTimekeeper, measurePrecise, ptpKvmInit, type HypercallLatency } from '@kvmlab/ptp-kvm-core';
import { x86PtpSyncAdapter } from './ptp-sync-x86.js';

export interface RetryProbeInput {
  readonly seed: number;
  readonly counterHz: bigint;
  readonly latency: HypercallLatency;
  readonly updatePeriodNs: bigint;
  readonly crosststamps: number;
  /** Guest time between two reads. */
  readonly think: Latency;
}

export interface RetryProbeResult {
  readonly crosststamps: number;
  readonly failed: number;
  readonly pvclockRetries: number;
  readonly vmcalls: number;
  readonly kvmclockRewrites: number;
  readonly virtualNs: number;
  /** Retries per cross-timestamp the mechanism predicts: mean VMCALL round trip / update period. */
  readonly predictedRate: number;
}

const mean = (l: Latency): number => {
  switch (l.kind) {
    case 'fixed':
      return l.ns;
    case 'uniform':
      return (l.minNs + l.maxNs) / 2;
    case 'normal':
      return l.meanNs;
    case 'lognormal':
      return l.medianNs * Math.exp(Math.log(l.gsd) ** 2 / 2);
    case 'exponential':
      return l.meanNs;
  }
};

export function runRetryProbe(input: RetryProbeInput): RetryProbeResult {
  const adapter = x86PtpSyncAdapter({ kvmclockUpdatePeriodNs: input.updatePeriodNs });
  const g = adapter.build({ method: 'precise', seed: input.seed, counterHz: input.counterHz, driftPpm: 0, latency: input.latency });
  const tk = new GuestTimekeeper(g.clocksource, { realtimeNs: g.host.realtime() });
  const driver = ptpKvmInit(g.hooks!, tk);
  const start = g.sim.now;
  let failed = 0;
  for (let i = 0; i < input.crosststamps; i++) {
    g.sim.elapse(drawLatency(g.sim.rng, input.think));
    try {
      measurePrecise(driver.clock);
    } catch {
      failed++;
    }
  }
  const p = adapter.probes[0]!();
  driver.exit();
  return {
    crosststamps: p.guest.crosststamps,
    failed,
    pvclockRetries: p.guest.pvclockRetries,
    vmcalls: p.guest.hypercalls,
    kvmclockRewrites: p.host.pvclockUpdates,
    virtualNs: Number(g.sim.now - start),
    predictedRate: (mean(input.latency.entry) + mean(input.latency.exit)) / Number(input.updatePeriodNs),
  };
}
