/**
 * Each cell of kvm-mmu-pml × nvmx-cr3 over several seeds: each series' bug shows its own symptom
 * and each fix removes exactly its own — pages lost iff kvm-mmu-pml is pre-fix, CR3 corruptions
 * (source and destination) iff nvmx-cr3 is pre-fix — and the symptoms come from the mechanisms:
 * the lost pages are L2-written data pages, the wrong CR3s are other subjects' PML4s (or, on the
 * destination, what a restored vmcs02 held).
 */
import { MUEN_DATA_GPA } from '@kvmlab/nvmx-cr3';
import { describe, expect, it } from 'vitest';
import { DATA_PAGES, DEFAULT_MIGRATION, runMuenMigration, subjectsOf, SUBJECTS_PER_CPU, type MuenMigrationRun } from '../src/index.js';
import { Rng } from '@kvmlab/hypervisor-core';

const SEEDS = [0, 1, 2];
const run = (pml: 'pre-fix' | 'merged', cr3: 'pre-fix' | 'rfc-muen' | 'merged', seed: number): MuenMigrationRun =>
  runMuenMigration({ ...DEFAULT_MIGRATION, pml, cr3, seed });

const dataGfns = (cpus: number): Set<number> => {
  const first = Number(MUEN_DATA_GPA >> 12n);
  return new Set(Array.from({ length: cpus * SUBJECTS_PER_CPU * DATA_PAGES }, (_, i) => first + i));
};

/** Every CR3 any subject of the system may legitimately hold (the subjects are the same for any PRNG: only work/writes differ). */
const systemCr3s = (cpus: number): Set<bigint> => {
  const out = new Set<bigint>([0n]);
  for (let c = 0; c < cpus; c++) for (const s of subjectsOf(c, new Rng(1), 100_000)) [s.cr3, ...(s.loads ?? [])].forEach((v) => out.add(v));
  return out;
};

describe.each(SEEDS)('seed %i', (seed) => {
  it('both pre-fix: pages lost, CR3 corruptions on the source and on the destination', () => {
    const r = run('pre-fix', 'pre-fix', seed);
    expect(r.precopy.pagesLost).toBeGreaterThan(0);
    expect(r.source.corruptions.length).toBeGreaterThan(0);
    expect(r.destination.corruptions.length).toBeGreaterThan(0);
  });

  it('PML fixed only (merged × pre-fix): CR3 corruptions, 0 pages lost', () => {
    const r = run('merged', 'pre-fix', seed);
    expect(r.precopy.pagesLost).toBe(0);
    expect(r.memoryDiff).toEqual([]);
    expect(r.source.corruptions.length).toBeGreaterThan(0);
    expect(r.destination.corruptions.length).toBeGreaterThan(0);
  });

  it.each(['rfc-muen', 'merged'] as const)('CR3 fixed only (pre-fix × %s): pages lost, no CR3 corruption', (cr3) => {
    const r = run('pre-fix', cr3, seed);
    expect(r.precopy.pagesLost).toBeGreaterThan(0);
    expect(r.source.corruptions).toEqual([]);
    expect(r.destination.corruptions).toEqual([]);
    expect(r.saved.some((s) => s.staleCr3)).toBe(false);
    expect(r.destCr3WrongAtRestore).toEqual([]);
  });

  it.each(['rfc-muen', 'merged'] as const)('both fixed (merged × %s): 0 pages lost and no CR3 corruption', (cr3) => {
    const r = run('merged', cr3, seed);
    expect(r.precopy.pagesLost).toBe(0);
    expect(r.memoryDiff).toEqual([]);
    expect(r.source.corruptions.length + r.destination.corruptions.length).toBe(0);
    expect(r.destCr3WrongAtRestore).toEqual([]);
    expect(r.destCr3WrongAtEnd).toEqual([]);
    expect(r.destination.framesRun).toBe(DEFAULT_MIGRATION.destFrames);
  });

  it('pre-fix PML: the lost pages are exactly what the whole-slot comparison finds, and all are L2-written data pages', () => {
    const r = run('pre-fix', 'merged', seed);
    expect(r.memoryDiff).toEqual(r.precopy.lostGfns.slice().sort((a, b) => a - b));
    const data = dataGfns(DEFAULT_MIGRATION.vcpus);
    for (const g of r.memoryDiff) expect(data.has(g)).toBe(true);
  });

  it('pre-fix CR3: Muen finds another subject\'s CR3 on the source; merged PML changes nothing about it', () => {
    const a = run('pre-fix', 'pre-fix', seed);
    const b = run('merged', 'pre-fix', seed);
    const legit = systemCr3s(DEFAULT_MIGRATION.vcpus);
    for (const c of a.source.corruptions) {
      expect(c.found).not.toBe(c.expected);
      expect(legit.has(c.found)).toBe(true); // a CR3 of the system: stale from another subject, not noise
    }
    // the CR3 mechanism does not depend on the dirty-logging variant: same frames, same values
    expect(b.source.corruptions).toEqual(a.source.corruptions);
  });
});

describe('the saved nested state', () => {
  it('pre-fix CR3: some seed stops a vCPU in a halted L2 whose saved vmcs12.GUEST_CR3 is another subject\'s, and the destination sees it at once', () => {
    const runs = [0, 3, 4].map((seed) => run('merged', 'pre-fix', seed));
    const stale = runs.flatMap((r) => r.saved.filter((s) => s.staleCr3).map((s) => ({ r, s })));
    expect(stale.length).toBeGreaterThan(0);
    for (const { r, s } of stale) {
      expect(s.guestMode).toBe(true);
      expect(s.mpState).toBe(3); // KVM_MP_STATE_HALTED: the squashed entry left the subject halted
      expect(r.destCr3WrongAtRestore).toContain(s.subject);
    }
  });

  it.each(['rfc-muen', 'merged'] as const)('%s: no saved state carries a stale GUEST_CR3 over 8 seeds', (cr3) => {
    for (let seed = 0; seed < 8; seed++) {
      const r = run('merged', cr3, seed);
      expect(r.saved.filter((s) => s.staleCr3)).toEqual([]);
      expect(r.destCr3WrongAtRestore).toEqual([]);
    }
  });
});
