/**
 * Scenario `nested-muen-migration`: the Muen-like L1 on several vCPUs is live-migrated with
 * QEMU-like pre-copy under PML, in any cell of kvm-mmu-pml × nvmx-cr3. Each series' bug shows
 * its own symptom — pages lost (the destination's memory differs from the source's at the stop)
 * and CR3 corruptions (Muen's check, on the source and on the destination) — and each fix
 * removes exactly its own.
 */
import {
  cellOf, variantCellName, variantCellNames, type ScenarioDef, type ScenarioFigure, type ScenarioResult, type ScenarioRunInput,
} from '@kvmlab/hypervisor-core';
import type { Variant as PmlVariant } from '@kvmlab/kvm-mmu-pml';
import { ada, NVMX_VARIANTS, type NvmxVariant } from '@kvmlab/nvmx-cr3';
import { MAX_CPUS } from './muen-smp.js';
import { DEFAULT_MIGRATION, runMuenMigration, type MuenMigrationRun } from './muen-migration.js';

/** The axes: one per plugin, its variants pre-fix first. */
export const MIGRATION_AXES = {
  'kvm-mmu-pml': ['pre-fix', 'merged'],
  'nvmx-cr3': NVMX_VARIANTS,
} as const satisfies Record<string, readonly string[]>;

const hex = (v: bigint | null): string | null => (v === null ? null : `0x${v.toString(16)}`);
const round1 = (x: number): number => Math.round(x * 10) / 10;

function figures(r: MuenMigrationRun): ScenarioFigure[] {
  const p = r.precopy;
  const stale = r.saved.filter((s) => s.staleCr3).length;
  return [
    { label: 'pages lost', value: p.pagesLost },
    { label: 'CR3 corruptions (source)', value: r.source.corruptions.length },
    { label: 'CR3 corruptions (destination)', value: r.destination.corruptions.length },
    { label: 'stale GUEST_CR3 in saved nested state', value: stale > 0 ? `yes (${stale} vCPU${stale === 1 ? '' : 's'})` : 'no' },
    { label: 'subjects with a wrong vmcs12.GUEST_CR3 after restore', value: r.destCr3WrongAtRestore.length },
    { label: 'pages compared', value: p.pagesCompared },
    { label: 'rounds', value: p.rounds.length },
    { label: 'converged within the downtime budget', value: p.converged ? 'yes' : 'no' },
    { label: 'pages sent', value: p.totalPagesSent },
    { label: 'modelled downtime', value: round1(p.downtimeMs * 1000) / 1000, unit: 'ms' },
    { label: 'migration time', value: round1(p.migrationMs), unit: 'ms' },
    { label: 'vCPU stop latency (signal to KVM_EXIT_INTR)', value: round1(r.stopLatencyUs), unit: 'µs' },
    { label: 'minor frames (source)', value: r.source.framesRun },
    { label: 'minor frames (destination)', value: r.destination.framesRun },
    { label: 'nested entries (source)', value: r.source.nestedEntries },
    { label: 'HLT-squashed entries (source)', value: r.source.squashedEntries },
    { label: 'nested exits (source)', value: r.source.nestedExits },
    { label: 'nested entries (destination)', value: r.destination.nestedEntries },
    { label: 'nested exits (destination)', value: r.destination.nestedExits },
    { label: 'PML entries logged (source)', value: r.source.pmlEntriesLogged },
    { label: 'write-protect faults (source)', value: r.source.writeProtectFaults },
  ];
}

function summary(r: MuenMigrationRun): string {
  const lost = r.precopy.pagesLost;
  const cs = r.source.corruptions.length;
  const cd = r.destination.corruptions.length;
  if (lost === 0 && cs + cd === 0) return `clean migration: 0 of ${r.precopy.pagesCompared} pages lost, no CR3 corruption on either side`;
  const parts: string[] = [];
  if (lost > 0) parts.push(`${lost} page${lost === 1 ? '' : 's'} lost`);
  if (cs + cd > 0) {
    const first = r.destination.corruptions[0] ?? r.source.corruptions[0]!;
    parts.push(`${cs} CR3 corruption${cs === 1 ? '' : 's'} on the source, ${cd} on the destination (e.g. subject ${first.subject} got ${ada(first.found, 16)})`);
  }
  return parts.join('; ');
}

function run(input: ScenarioRunInput): ScenarioResult {
  const cell = input.variants ?? cellOf(nestedMuenMigration, input.variant);
  if (cell === undefined) throw new RangeError(`nested-muen-migration: no cell "${input.variant}"`);
  const pml = cell['kvm-mmu-pml'] as PmlVariant;
  const cr3 = cell['nvmx-cr3'] as NvmxVariant;
  const o = input.options;
  const r = runMuenMigration({
    pml, cr3, seed: input.seed, vcpus: Number(o['vcpus']), tickUs: Number(o['tickUs']), irqPerMs: Number(o['irqPerMs']),
    startMs: Number(o['startMs']), destFrames: Number(o['destFrames']), bandwidthMBps: Number(o['bandwidthMBps']),
    downtimeMs: Number(o['downtimeMs']), maxRounds: Number(o['maxRounds']), enablePml: o['enablePml'] === true,
    trace: input.trace === true,
  });
  input.onProgress?.(1);
  const bad = r.precopy.pagesLost + r.source.corruptions.length + r.destination.corruptions.length;
  const rounds = r.precopy.rounds;
  const corruption = (c: MuenMigrationRun['source']['corruptions'][number]) => ({
    frame: c.frame, subject: c.subject, expected: hex(c.expected), found: hex(c.found), exitReason: c.exitReason,
  });
  return {
    scenario: 'nested-muen-migration', variant: variantCellName(MIGRATION_AXES, cell), variants: { ...cell }, arch: 'x86_64', seed: input.seed,
    verdict: bad > 0 ? 'bug-reproduced' : 'ok',
    summary: summary(r),
    headline: { label: 'pages lost', value: r.precopy.pagesLost },
    figures: figures(r),
    series: [{
      name: 'dirty-pages-per-round', title: `Dirty pages at each sync (${pml} PML, ${cr3} CR3)`, xLabel: 'round', yLabel: 'pages',
      x: rounds.map((x) => x.round), y: { 'dirty pages at sync': rounds.map((x) => x.dirtyPagesAtSync), 'pages sent': rounds.map((x) => x.pagesSent) },
      caption: 'Pages each pre-copy round sent and the dirty log reported at the sync that ended it; the rest went in the stop-and-copy.', kind: 'bar',
    }],
    details: {
      lostGfns: r.precopy.lostGfns.map((g) => `0x${g.toString(16)}`),
      savedVcpus: r.saved.map((s) => ({ ...s, savedGuestCr3: hex(s.savedGuestCr3) })),
      destCr3WrongAtRestore: r.destCr3WrongAtRestore,
      destCr3WrongAtEnd: r.destCr3WrongAtEnd,
      sourceCorruptions: r.source.corruptions.slice(0, 20).map(corruption),
      destinationCorruptions: r.destination.corruptions.slice(0, 20).map(corruption),
      rounds: rounds.map((x) => ({ ...x })),
      userspaceExits: { source: r.source.userspaceExits, destination: r.destination.userspaceExits },
      virtualTimeMs: { source: r.source.simMs, destination: r.destination.simMs },
    },
    ...(r.trace !== undefined ? { trace: r.trace } : {}),
  };
}

const d = DEFAULT_MIGRATION;

export const nestedMuenMigration: ScenarioDef = {
  name: 'nested-muen-migration',
  description: 'live migration of a multi-CPU Muen-like L1 under PML: pages lost × CR3 corruptions, kvm-mmu-pml × nvmx-cr3',
  arches: ['x86_64'],
  variantAxes: MIGRATION_AXES,
  variants: variantCellNames(MIGRATION_AXES),
  defaultVariant: 'kvm-mmu-pml=merged,nvmx-cr3=merged',
  matrixFigures: ['CR3 corruptions (source)', 'CR3 corruptions (destination)', 'stale GUEST_CR3 in saved nested state'],
  package: '@kvmlab/x86-compose',
  options: {
    vcpus: { type: 'number', default: d.vcpus, min: 1, max: MAX_CPUS, integer: true, description: 'L1 vCPUs, each running Muen with its own five subjects' },
    tickUs: { type: 'number', default: d.tickUs, min: 20, max: 10_000, unit: 'µs', description: 'scheduler tick (VMX-preemption timer per minor frame)' },
    irqPerMs: { type: 'number', default: d.irqPerMs, min: 0, max: 100, unit: '1/ms', description: 'mean device interrupts per vCPU (external-interrupt exits)' },
    startMs: { type: 'number', default: d.startMs, min: 0, max: 1000, unit: 'ms', description: 'virtual time Muen runs before the migration starts' },
    destFrames: { type: 'number', default: d.destFrames, min: 1, max: 100_000, integer: true, description: 'minor frames the destination runs after the switch-over' },
    bandwidthMBps: { type: 'number', default: d.bandwidthMBps, min: 1, max: 100_000, unit: 'MB/s', description: 'migration bandwidth (125 MB/s = 1 GbE)' },
    downtimeMs: { type: 'number', default: d.downtimeMs, min: 0.001, max: 100_000, unit: 'ms', description: 'downtime budget (QEMU default 300 ms)' },
    maxRounds: { type: 'number', default: d.maxRounds, min: 1, max: 1000, integer: true, description: 'round limit before stop-and-copy' },
    enablePml: { type: 'boolean', default: d.enablePml, description: 'kvm_intel.enable_pml in L0 (both hosts)' },
  },
  // Muen runs on every vCPU before, during and after the migration. A round sends at most all of
  // L1's 8 MiB; one that fits the downtime budget ends it, else the round limit or the 10 s cap
  // does. A minor frame weighs 1000 events (as nvmx-hlt-cr3's, per vCPU), ~1 KiB of record
  // (calibrated: --dest-frames 100000 ran past 300 s at 149 MB RSS).
  estimate: (o) => {
    const n = (k: string): number => o[k] as number;
    const roundS = (8 * 2 ** 20 * (4104 / 4096)) / (n('bandwidthMBps') * 1e6);
    const migrationS = roundS <= n('downtimeMs') / 1e3 ? 2 * roundS : Math.min(10, roundS * (n('maxRounds') + 1));
    const framesPerVcpu = ((n('startMs') / 1e3 + migrationS) * 1e6) / n('tickUs') + n('destFrames');
    const irqs = (n('irqPerMs') * n('tickUs')) / 1000;
    return { memoryBytes: 100 * 2 ** 20 + n('vcpus') * framesPerVcpu * 1024, events: n('vcpus') * framesPerVcpu * (1000 + 100 * irqs) };
  },
  run,
};
