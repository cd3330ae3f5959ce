/**
 * Scenario `nested-migration`: QEMU-like pre-copy of an L1 that runs an L2 writing memory
 * through non-identity EPT12 mappings, then the same migration with a plain L1 workload.
 * Pre-fix loses pages (the destination differs from the source); merged loses none.
 */
import type { ScenarioDef, ScenarioOptionValues, ScenarioResult } from '@kvmlab/hypervisor-core';
import { QEMU_DEFAULT_DOWNTIME_MS } from '../constants.js';
import type { Variant } from '../host/spte.js';
import { checkMigrationOptions, estimateMigration } from './migration-estimate.js';
import { runMigration, type MigrationRun, type MigrationRunOptions } from './migration-run.js';
import { nestedMigrationRandomize } from './nested-migration-randomize.js';

const num = (o: ScenarioOptionValues, k: string): number => o[k] as number;
const bool = (o: ScenarioOptionValues, k: string): boolean => o[k] === true;

export function migrationOptions(variant: Variant, seed: number, o: ScenarioOptionValues, workload: 'nested' | 'plain'): MigrationRunOptions {
  return {
    variant,
    seed,
    workload,
    l1MiB: num(o, 'l1GiB') * 1024,
    l2MiB: num(o, 'l2MiB'),
    wssMiB: num(o, 'wssMiB'),
    hotMiB: num(o, 'hotMiB'),
    hotFraction: num(o, 'hotFraction'),
    writesPerSec: num(o, 'writesPerSec'),
    l1WritesPerSec: num(o, 'l1WritesPerSec'),
    bandwidthMBps: num(o, 'bandwidthMBps'),
    downtimeMs: num(o, 'downtimeMs'),
    maxRounds: num(o, 'maxRounds'),
    enablePml: bool(o, 'enablePml'),
    eptAd: bool(o, 'eptAd'),
    eptp12Ad: bool(o, 'eptp12Ad'),
    tdpForL2: bool(o, 'tdpForL2'),
    vcpus: num(o, 'vcpus'),
  };
}

const meanRate = (r: MigrationRun): number => {
  const rs = r.precopy.rounds;
  return rs.length === 0 ? 0 : rs.reduce((a, x) => a + x.dirtyRateMBps, 0) / rs.length;
};

export const nestedMigrationScenario: ScenarioDef = {
  name: 'nested-migration',
  description: 'pre-copy live migration of an L1 running an L2 under PML: pages lost pre-fix, none merged',
  arches: ['x86_64'],
  variants: ['pre-fix', 'merged'],
  defaultVariant: 'merged',
  package: '@kvmlab/kvm-mmu-pml',
  randomize: nestedMigrationRandomize,
  options: {
    l1GiB: { type: 'number', default: 4, min: 2, max: 1024, integer: true, unit: 'GiB', description: 'L1 memory (one slot at GPA 0)' },
    l2MiB: { type: 'number', default: 512, min: 2, max: 65536, integer: true, unit: 'MiB', description: 'L2 memory (placed in L1 from 1 GiB, 2 MiB chunks shuffled)' },
    wssMiB: { type: 'number', default: 128, min: 1, max: 65536, integer: true, unit: 'MiB', description: 'L2 working set' },
    hotMiB: { type: 'number', default: 16, min: 0, max: 65536, integer: true, unit: 'MiB', description: 'hot part of the working set' },
    hotFraction: { type: 'number', default: 0.8, min: 0, max: 1, description: 'share of writes that go to the hot part' },
    writesPerSec: { type: 'number', default: 40000, min: 0, max: 10_000_000, unit: 'pages/s', description: 'L2 page writes per second' },
    l1WritesPerSec: { type: 'number', default: 2000, min: 0, max: 10_000_000, unit: 'pages/s', description: 'L1 kernel page writes per second' },
    bandwidthMBps: { type: 'number', default: 125, min: 1, max: 100000, unit: 'MB/s', description: 'migration bandwidth (125 MB/s = 1 GbE)' },
    downtimeMs: { type: 'number', default: QEMU_DEFAULT_DOWNTIME_MS, min: 1, max: 100000, unit: 'ms', description: 'downtime budget (QEMU default 300 ms)' },
    vcpus: { type: 'number', default: 1, min: 1, max: 64, integer: true, description: 'vCPUs, each running an L2 at the rates above' },
    maxRounds: { type: 'number', default: 30, min: 1, max: 1000, integer: true, description: 'round limit before stop-and-copy' },
    enablePml: { type: 'boolean', default: true, description: 'kvm_intel.enable_pml in L0' },
    eptAd: { type: 'boolean', default: true, description: 'kvm_intel.ept_ad in L0' },
    eptp12Ad: { type: 'boolean', default: true, description: 'L1 enables A/D flags in EPT12 (EPTP12 bit 6)' },
    tdpForL2: { type: 'boolean', default: false, description: 'L1 runs L2 without EPT12 (L2 on L1’s TDP)' },
  },
  checkOptions: checkMigrationOptions,
  estimate: estimateMigration,
  run(input): ScenarioResult {
    const variant = input.variant as Variant;
    const nested = runMigration({ ...migrationOptions(variant, input.seed, input.options, 'nested'), trace: input.trace === true });
    input.onProgress?.(0.5);
    const plain = runMigration(migrationOptions(variant, input.seed, input.options, 'plain'));
    input.onProgress?.(1);
    const p = nested.precopy;
    const lost = p.pagesLost + plain.precopy.pagesLost;
    const rounds = Math.max(p.rounds.length, plain.precopy.rounds.length);
    const pad = (r: MigrationRun): (number | null)[] =>
      Array.from({ length: rounds }, (_, i) => r.precopy.rounds[i]?.dirtyPagesAtSync ?? null);
    return {
      scenario: 'nested-migration',
      variant,
      arch: 'x86_64',
      seed: input.seed,
      verdict: lost > 0 ? 'bug-reproduced' : 'ok',
      summary: `nested L1: ${p.pagesLost} pages lost of ${p.pagesCompared} compared after ${p.rounds.length} rounds; plain L1: ${plain.precopy.pagesLost} lost`,
      headline: { label: 'pages lost (nested)', value: p.pagesLost },
      figures: [
        { label: 'pages lost (nested L2 workload)', value: p.pagesLost },
        { label: 'pages lost (plain L1 workload)', value: plain.precopy.pagesLost },
        { label: 'rounds', value: p.rounds.length },
        { label: 'converged within the downtime budget', value: p.converged ? 'yes' : 'no' },
        { label: 'pages sent', value: p.totalPagesSent },
        { label: 'MB sent', value: Math.round(p.totalBytes / 1e4) / 100, unit: 'MB' },
        { label: 'modelled downtime', value: Math.round(p.downtimeMs * 10) / 10, unit: 'ms' },
        { label: 'migration time', value: Math.round(p.migrationMs), unit: 'ms' },
        { label: 'dirty rate seen in the dirty log (mean of rounds)', value: Math.round(meanRate(nested) * 10) / 10, unit: 'MB/s' },
        { label: 'guest write rate (4 KiB per store)', value: Math.round(nested.guestWriteRateMBps * 10) / 10, unit: 'MB/s' },
        { label: 'L1 pages written during migration', value: nested.l1PagesWritten },
        { label: 'PML entries logged', value: nested.pmlEntriesLogged },
        { label: 'write-protect faults', value: nested.writeProtectFaults },
        ...Object.entries(nested.exits).map(([k, n]) => ({ label: `exits: ${k}`, value: n })),
      ],
      series: [
        {
          name: 'dirty-pages-per-round',
          title: 'Dirty pages reported at each sync',
          xLabel: 'round',
          yLabel: 'pages',
          x: Array.from({ length: rounds }, (_, i) => i + 1),
          y: { nested: pad(nested), plain: pad(plain) },
          caption: 'Pages KVM_GET_DIRTY_LOG reported at the end of each pre-copy round, nested vs plain L1 workload.',
          kind: 'bar',
        },
      ],
      details: {
        nested: { ...nested, trace: undefined, precopy: { ...p } },
        plain: { ...plain, precopy: { ...plain.precopy } },
      },
      ...(nested.trace !== undefined ? { trace: nested.trace } : {}),
    };
  },
};
