/**
 * The Muen-like system image a scenario boots: subject CR3s from Reto Buerki's log (native
 * subjects 0–7), two VM subjects (8, 9) that load their own CR3s under EPT (0x10ff9000 is the
 * value in the report), and a plan in which subject 1 follows both V8 and S3.
 */
import type { Rng } from '@kvmlab/hypervisor-core';
import type { MuenSubject } from '../guest/muen.js';

/** "PML4 address of subject 16#000N#" lines of the report. */
export const REPORT_PML4: readonly bigint[] = [0x18c9000n, 0x189f000n, 0x1834000n, 0x183d000n, 0x1846000n, 0x1630000n, 0x1818000n, 0x186f000n];
/** Muen's own page tables (HOST_CR3 of every subject). */
export const MUEN_KERNEL_CR3 = 0x1000000n;
/** Major frame: subject ids per minor frame. */
export const MUEN_PLAN: readonly number[] = [0, 8, 1, 2, 3, 1, 4, 9, 5, 6, 7];

/** Builds the subjects; work lengths and event periods are drawn from the seeded PRNG. */
export function muenSubjects(rng: Rng, tickNs: number): MuenSubject[] {
  const work = (): number => Math.round(tickNs * rng.uniform(0.1, 0.6));
  const wake = (): number => rng.int(2, 4);
  const subjects: MuenSubject[] = REPORT_PML4.map((cr3, id) => ({ id, kind: 'native', cr3, workNs: work(), wakeEvery: wake() }));
  subjects.push({ id: 8, kind: 'vm', cr3: 0n, loads: [0x10ff9000n, 0x10ffa000n], workNs: work(), wakeEvery: wake() });
  subjects.push({ id: 9, kind: 'vm', cr3: 0n, loads: [0x20ff9000n, 0x20ffb000n, 0x20ffc000n], workNs: work(), wakeEvery: wake() });
  return subjects;
}
