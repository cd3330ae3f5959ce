/**
 * `kvmlab sweep ptp-sync --randomize`: the clocks each run draws from its seed — the guest's
 * initial offset and the host counter error it must track, how long and how often it polls,
 * how slow the hypercall is, how many samples each PTP_SYS_OFFSET takes, and a second vCPU.
 * Durations start at 5 min so even the slowest poll (2^4 s) gets ~20 polls to converge; the
 * counter frequency stays the arch's default (it is the hardware, not load). The servo stays
 * phc2sys's PI, the one the ≤ 2 ns PRECISE bound is documented for: the chrony-like servo's
 * slew tail needs `convergeNs: 10` to be excluded (ptp-kvm-core README), so sweep it with
 * `--set servo=chrony --set convergeNs=10`.
 */
import { dependent, logUniform, logUniformInt, uniformInt, uniformReal, type ScenarioRandomize } from '@kvmlab/hypervisor-core';

export const ptpSyncRandomize: ScenarioRandomize = {
  durationS: logUniformInt(300, 1800),
  pollLog2: uniformInt(0, 4),
  offsetNs: uniformInt(-1_000_000, 1_000_000),
  driftPpm: uniformReal(-100, 100, 1),
  latencyScale: logUniform(0.5, 4),
  sysOffsetSamples: uniformInt(1, 25),
  vcpus: dependent('1 (p = 0.8) or 2', (rng) => (rng.chance(0.8) ? 1 : 2)),
};
