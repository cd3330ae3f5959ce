/** definePtpSyncScenario(): the ScenarioDef an arch package exports as its `ptp-sync`. */
import type { ScenarioDef } from '@kvmlab/hypervisor-core';
import type { PtpSyncArchAdapter } from './adapter.js';
import { ptpSyncRandomize } from './ptp-sync-randomize.js';
import { runPtpSync } from './run-ptp-sync.js';

export function definePtpSyncScenario(adapter: PtpSyncArchAdapter): ScenarioDef {
  const methods = adapter.methods.join(', ');
  return {
    name: 'ptp-sync',
    description: `A guest disciplines its clock from the ptp_kvm PHC with a phc2sys-like PI servo; offset statistics for ${methods}`,
    arches: [adapter.arch],
    variants: ['merged'],
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
    },
    run: (input) => runPtpSync(adapter, input),
  };
}
