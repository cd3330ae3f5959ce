/**
 * `kvmlab sweep nested-migration --randomize`: the workload each run draws from its seed. Sizes
 * span small to a few times the default; rates and links span what a 2019 host migrating over
 * 1–10 GbE saw. Sizes keep the constraints runMigration checks (L2 fits in L1 after its 1 GiB
 * kernel, 2 MiB multiples, hot ≤ wss ≤ L2). Run cost grows with writesPerSec × vcpus × the
 * migration's length, so the ranges stop where one run would take more than a few seconds.
 */
import { bernoulli, dependent, logUniform, logUniformInt, oneOf, uniformInt, uniformReal, type ScenarioRandomize } from '@kvmlab/hypervisor-core';

const num = (d: Readonly<Record<string, unknown>>, k: string): number => d[k] as number;

export const nestedMigrationRandomize: ScenarioRandomize = {
  l1GiB: oneOf([2, 3, 4, 6, 8]),
  l2MiB: dependent('2 MiB multiple, log-uniform in [64 MiB, min(2 GiB, L1 − 1 GiB)]', (rng, d) => {
    const max = Math.min(2048, (num(d, 'l1GiB') - 1) * 1024);
    return 2 * Math.round(Math.exp(rng.uniform(Math.log(64), Math.log(max))) / 2);
  }),
  wssMiB: dependent('log-uniform integer in [8 MiB, L2]', (rng, d) => Math.min(num(d, 'l2MiB'), Math.round(Math.exp(rng.uniform(Math.log(8), Math.log(num(d, 'l2MiB'))))))),
  hotMiB: dependent('uniform integer in [0, wss / 4]', (rng, d) => rng.int(0, Math.floor(num(d, 'wssMiB') / 4))),
  hotFraction: uniformReal(0.5, 0.95, 2),
  writesPerSec: logUniformInt(5000, 60000),
  l1WritesPerSec: uniformInt(0, 5000),
  bandwidthMBps: logUniform(125, 1250),
  downtimeMs: logUniformInt(30, 1000),
  vcpus: dependent('1 (p = 0.8) or 2', (rng) => (rng.chance(0.8) ? 1 : 2)),
  enablePml: bernoulli(0.9),
  eptp12Ad: bernoulli(0.9),
};
