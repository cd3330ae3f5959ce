/**
 * A Muen-like L1 on several CPUs: each CPU runs nvmx-cr3's MuenKernel with its own subjects,
 * plan, VMXON region, EPT tables and scheduler state page; subjects are numbered across the
 * system (their VMCS regions and data pages are laid out by id). CPU c has four native subjects
 * whose static PML4s are the report's (REPORT_PML4, in turn) and one VM subject that loads its
 * own CR3s under EPT; in every plan a native subject follows the VM subject, as subject 1
 * follows the VM subject in Reto Buerki's log. Work lengths, wake periods and written pages come
 * from the seeded PRNG.
 */
import type { Rng } from '@kvmlab/hypervisor-core';
import { MUEN_KERNEL_CR3, REPORT_PML4, type MuenConfig, type MuenSubject } from '@kvmlab/nvmx-cr3';

/** Subjects per CPU: four native, one VM subject. */
export const SUBJECTS_PER_CPU = 5;
export const NATIVE_PER_CPU = 4;
/** Data pages per subject. */
export const DATA_PAGES = 4;
/** CPUs the layout supports (VMCS regions 0x20000 + id pages stay below Muen's state pages at 0x80000). */
export const MAX_CPUS = 4;

/** The CR3s CPU c's VM subject loads: distinct per CPU and from every native PML4 (0x10ff9000 is the report's value). */
export const vmSubjectLoads = (cpu: number): readonly bigint[] => [0x10ff9000n + (BigInt(cpu) << 24n), 0x10ffa000n + (BigInt(cpu) << 24n)];

/** The plan of CPU c, as subject ids: the VM subject (slot 4) is followed by native slot 1, as in the report. */
export const planOf = (cpu: number): readonly number[] => [0, 4, 1, 2, 3, 1].map((slot) => cpu * SUBJECTS_PER_CPU + slot);

export interface SmpWorkload {
  /** Fraction of a tick a subject works before it halts: drawn uniformly from this range. */
  readonly workFraction: readonly [number, number];
  /** Chance that a subject writes each of its data pages every time it runs (at least one page). */
  readonly writeChance: number;
}

export const DEFAULT_WORKLOAD: SmpWorkload = { workFraction: [0.1, 0.6], writeChance: 0.5 };

/** The subjects of CPU c (ids c·5 … c·5+4). */
export function subjectsOf(cpu: number, rng: Rng, tickNs: number, w: SmpWorkload = DEFAULT_WORKLOAD): MuenSubject[] {
  const base = cpu * SUBJECTS_PER_CPU;
  const work = (): number => Math.round(tickNs * rng.uniform(w.workFraction[0], w.workFraction[1]));
  const writes = (): number[] => {
    const pages = Array.from({ length: DATA_PAGES }, (_, p) => p).filter(() => rng.chance(w.writeChance));
    return pages.length > 0 ? pages : [rng.int(0, DATA_PAGES - 1)];
  };
  const out: MuenSubject[] = [];
  for (let j = 0; j < NATIVE_PER_CPU; j++) {
    out.push({ id: base + j, kind: 'native', cr3: REPORT_PML4[(cpu * NATIVE_PER_CPU + j) % REPORT_PML4.length]!, workNs: work(), wakeEvery: rng.int(2, 4), writes: writes() });
  }
  out.push({ id: base + NATIVE_PER_CPU, kind: 'vm', cr3: 0n, loads: vmSubjectLoads(cpu), workNs: work(), wakeEvery: rng.int(2, 4), writes: writes() });
  return out;
}

/** Muen's configuration of CPU c (repairs a corrupted CR3 and goes on, so a run counts every corruption). */
export function muenConfigOf(cpu: number, subjects: readonly MuenSubject[], tickTimerValue: bigint): MuenConfig {
  return { cpu, subjects, plan: planOf(cpu), tickTimerValue, kernelCr3: MUEN_KERNEL_CR3, onCorruption: 'repair', dataPages: DATA_PAGES };
}

/**
 * The architectural CR3 check for a subject's vmcs12.GUEST_CR3: a native subject's is its static
 * PML4; a VM subject's is 0 (as Muen set it up) or one of the CR3s it loads itself. Another
 * subject's PML4 is neither — that is what a stale vmcs02.GUEST_CR3 puts there.
 */
export function cr3IsArchitectural(s: MuenSubject, cr3: bigint): boolean {
  return s.kind === 'native' ? cr3 === s.cr3 : cr3 === s.cr3 || (s.loads ?? []).includes(cr3);
}
