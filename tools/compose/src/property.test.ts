/**
 * Property (issue 13): over random seeds, frame counts and interrupt rates, the two bugs are
 * independent. For each nvmx-cr3 variant, kvm-mmu-pml's variant changes neither what the subjects
 * write nor Muen's detections (which happen exactly pre-fix, once per stale squash); for each
 * kvm-mmu-pml variant, whatever nvmx-cr3 runs, the dirty log follows the MMU alone: every write
 * reported (merged) or only each page's first (pre-fix: every rewrite lost).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { firstWrites, lostWrites, rewrites, staleSquashes } from './figures.js';
import { runMuen, type MuenRun } from './muen-rig.js';
import { COMBINATIONS, CR3_VARIANTS, PML_VARIANTS } from './rig.js';

const NUM_RUNS = process.env['KVMLAB_SOAK'] !== undefined ? 300 : 8;

describe('independence of the PML bug and the CR3 bug', () => {
  it('corruptions depend only on the nvmx-cr3 variant, lost L2-written pages only on the kvm-mmu-pml variant', () => {
    let lostSeen = 0;
    let corruptionsSeen = 0;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0x7fff_ffff }), fc.integer({ min: 16, max: 32 }), fc.integer({ min: 0, max: 4 }), (seed, frames, irqPerMs) => {
        const runs = new Map<string, MuenRun>(COMBINATIONS.map(([pml, cr3]) => [`${pml}/${cr3}`, runMuen({ pml, cr3, seed, frames, irqPerMs })]));
        const get = (pml: string, cr3: string): MuenRun => runs.get(`${pml}/${cr3}`)!;
        for (const cr3 of CR3_VARIANTS) {
          const a = get('pre-fix', cr3);
          const b = get('merged', cr3);
          expect(b.corruptions).toEqual(a.corruptions);
          expect(b.frames.map((f) => f.changed)).toEqual(a.frames.map((f) => f.changed));
          expect(a.corruptions.length).toBe(staleSquashes(a.entries).length);
          expect(a.corruptions.length > 0).toBe(cr3 === 'pre-fix');
          corruptionsSeen += a.corruptions.length;
        }
        for (const pml of PML_VARIANTS) {
          for (const cr3 of CR3_VARIANTS) {
            const r = get(pml, cr3);
            const lost = lostWrites(r.frames).length;
            expect(r.frames.map((f) => f.dirtyData)).toEqual(pml === 'pre-fix' ? firstWrites(r.frames) : r.frames.map((f) => f.changed));
            expect(lost).toBe(pml === 'pre-fix' ? rewrites(r.frames) : 0);
            expect(rewrites(r.frames)).toBeGreaterThan(0);
            lostSeen += lost;
          }
        }
      }),
      { numRuns: NUM_RUNS, seed: 20190926 },
    );
    expect(lostSeen).toBeGreaterThan(0);
    expect(corruptionsSeen).toBeGreaterThan(0);
  });
});
