/** definePtpSyncScenario(): the ScenarioDef an arch package exports as its `ptp-sync`. */
import type { ScenarioDef, ScenarioEstimate, ScenarioOptionValues } from '@kvmlab/hypervisor-core';
import type { PtpSyncArchAdapter } from './adapter.js';
import { HOST_NTP_POLL_LOG2, HOST_NTP_SLEW_SD_PPB, STEAL_MEDIAN_US } from './error-sources.js';
import { ptpSyncRandomize } from './ptp-sync-randomize.js';
import { ptpSyncMethodsOf, ptpSyncVariants, runPtpSync } from './run-ptp-sync.js';

export function definePtpSyncScenario(adapter: PtpSyncArchAdapter): ScenarioDef {
  const variants = ptpSyncVariants(adapter);
  const methods = variants.map((v) => `${v}: ${ptpSyncMethodsOf(adapter, v).join(', ')}`).join('; ');
  return {
    name: 'ptp-sync',
    description: `A guest disciplines its clock from the ptp_kvm PHC (or, without ptp_kvm, over NTP) with a phc2sys-like PI servo; offset statistics per variant (${methods})`,
    arches: [adapter.arch],
    variants,
    defaultVariant: 'merged',
    package: adapter.packageName,
    randomize: ptpSyncRandomize,
    options: {
      durationS: { type: 'number', default: 600, min: 16, max: 86_400, unit: 's', description: 'virtual time to run' },
      pollLog2: { type: 'number', default: 3, min: 0, max: 8, integer: true, description: 'poll every 2^pollLog2 s (Kata: refclock PHC poll 3)' },
      offsetNs: { type: 'number', default: 500_000, min: -1e9, max: 1e9, integer: true, unit: 'ns', description: 'initial guest clock offset' },
      driftPpm: { type: 'number', default: 25, min: -400, max: 400, unit: 'ppm', description: 'host counter error the host corrects and the guest does not' },
      counterHz: { type: 'number', default: Number(adapter.defaultCounterHz), min: 1e6, max: 5e9, integer: true, unit: 'Hz', description: 'host counter frequency' },
      latencyScale: { type: 'number', default: 1, min: 0, max: 100, description: 'multiplies the hypercall entry/exit latency model' },
      sysOffsetSamples: { type: 'number', default: 5, min: 1, max: 25, integer: true, description: 'PTP_SYS_OFFSET samples per poll (phc2sys -N)' },
      convergeNs: { type: 'number', default: 1000, min: 1, max: 1e9, unit: 'ns', description: '|offset| bound that counts as converged' },
      servo: { type: 'enum', default: 'pi', values: ['pi', 'chrony'], description: "clock servo: 'pi' (phc2sys, kp 0.7 ki 0.3) or 'chrony' (refclock median filter + regression)" },
      vcpus: { type: 'number', default: 1, min: 1, max: 64, integer: true, description: 'vCPUs the VMM creates (1 ms apart); each poll also reads the PHC from every vCPU and the run checks they agree' },
      dpollLog2: { type: 'number', default: -2, min: -6, max: 6, integer: true, description: "chrony servo: read the PHC every 2^dpollLog2 s (Kata: dpoll -2)" },
      hostNtpSlewPpb: { type: 'number', default: HOST_NTP_SLEW_SD_PPB, min: 0, max: 10_000, unit: 'ppb', description: "error source: SD of the host chronyd's frequency corrections of host CLOCK_REALTIME (0: an ideal host)" },
      hostNtpPollLog2: { type: 'number', default: HOST_NTP_POLL_LOG2, min: 0, max: 17, integer: true, description: "error source: the host chronyd corrects every 2^hostNtpPollLog2 s (chrony minpoll default 6)" },
      stealPct: { type: 'number', default: 0, min: 0, max: 100, unit: '%', description: 'error source: share of hypercalls and NTP packets during which the vCPU is preempted (steal time)' },
      stealUs: { type: 'number', default: STEAL_MEDIAN_US, min: 1, max: 1_000_000, unit: 'µs', description: 'error source: median preemption (one CFS slice, sched_min_granularity 0.75 ms)' },
      nicScale: { type: 'number', default: 1, min: 0, max: 100, description: 'variant none: multiplies the virtio-net request/response delay model' },
    },
    estimate: (o) => estimatePtpSync(o, adapter.methods.length),
    run: (input) => runPtpSync(adapter, input),
  };
}

/**
 * A run's cost from its options: each method runs the whole duration; each poll (each dpoll for
 * chrony) reads the PHC sysOffsetSamples times plus once per vCPU, weighted 50 events a read
 * (hypercall entry and exit, the servo, timers; calibrated: x86 --duration-s 86400 took 80 s for
 * 5·10^7, as nested-migration's events cost), and each poll keeps one sample (~300 bytes).
 */
export function estimatePtpSync(o: ScenarioOptionValues, methods: number): ScenarioEstimate {
  const n = (k: string): number => o[k] as number;
  const readLog2 = o['servo'] === 'chrony' ? Math.min(n('pollLog2'), n('dpollLog2')) : n('pollLog2');
  const polls = n('durationS') / 2 ** n('pollLog2');
  const reads = (n('durationS') / 2 ** readLog2) * (n('sysOffsetSamples') + n('vcpus'));
  return { memoryBytes: 80 * 2 ** 20 + methods * polls * 300 + n('vcpus') * 2 ** 20, events: methods * (reads * 50 + n('durationS')) };
}
