/**
 * Each package alone in the same rig (issue 13: "both can be installed alone"): nvmx-cr3 without
 * kvm-mmu-pml runs the Muen-like L1 on core's write-protect MMU and still shows the CR3 bug only
 * pre-fix; kvm-mmu-pml without nvmx-cr3 runs a plain L1 and still loses L2-written pages pre-fix.
 */
import { CompositionError, createHypervisor } from '@kvmlab/hypervisor-core';
import { kvmMmuOf, kvmMmuPml } from '@kvmlab/kvm-mmu-pml';
import { MUEN_DATA_GPA, NVMX_SERVICE, nvmxCr3 } from '@kvmlab/nvmx-cr3';
import { describe, expect, it } from 'vitest';
import { cr3View, lostWrites, perEntry, pmlFromL2, staleSquashes } from './figures.js';
import { runMuen } from './muen-rig.js';
import { CR3_VARIANTS, l2DataGpa, PML_VARIANTS } from './rig.js';
import { runSimpleL1, SIMPLE_DATA_PAGES, SIMPLE_L2_CR3 } from './simple-l1.js';

const SEED = 1;
const FRAMES = 48;

describe.each(CR3_VARIANTS)('nvmx-cr3 %s alone (no kvm-mmu-pml)', (cr3) => {
  it('runs the Muen-like L1 on core\'s MMU with no PML in vmcs02; the CR3 corruption shows exactly pre-fix; the dirty log is exact', () => {
    const r = runMuen({ cr3, seed: SEED, frames: FRAMES });
    expect(() => kvmMmuOf(r.vm)).toThrow(TypeError);
    expect(r.mmu).toBeUndefined();
    expect(r.hv.nestedVmx!.params.pml).toBe(false); // no plugin provides a PML log
    expect([...r.hv.nestedVmx!.opsOwners.values()].every((o) => o === 'nvmx-cr3')).toBe(true);
    expect(r.runs.length).toBeGreaterThan(10);
    for (const x of r.runs) {
      expect(x.onVmcs02).toBe(true);
      expect(x.pmlAddress).toBe(0n);
      expect(x.vmcs02PmlEnabled).toBe(false);
    }
    const stale = staleSquashes(r.entries);
    expect(r.corruptions.map((c) => [c.frame, c.found])).toEqual(stale.map((e) => [e.frame, e.vmcs02Cr3]));
    expect(r.corruptions.length > 0).toBe(cr3 === 'pre-fix');
    const w = perEntry(r.entries, (e) => e.vmcs02Cr3Vmwrites);
    expect(w).toEqual({ 'pre-fix': { entered: [1], squashed: [0] }, 'rfc-muen': { entered: [2], squashed: [1] }, merged: { entered: [1], squashed: [1] } }[cr3]);
    expect(r.frames.map((f) => f.dirtyData)).toEqual(r.frames.map((f) => f.changed));
    expect(lostWrites(r.frames)).toEqual([]);
  });
});

describe.each(PML_VARIANTS)('kvm-mmu-pml %s alone (no nvmx-cr3)', (pml) => {
  it('a plain L1 whose L2 increments two data pages per round: lost after the first round pre-fix, all reported merged', () => {
    const s = runSimpleL1({ pml, rounds: 5 });
    expect(s.hv.decoration(NVMX_SERVICE)).toBeUndefined();
    expect([...s.hv.nestedVmx!.opsOwners.values()].every((o) => o === 'kvm-mmu-pml')).toBe(true);
    const pages = Array.from({ length: SIMPLE_DATA_PAGES }, (_, p) => Number(MUEN_DATA_GPA >> 12n) + p);
    expect(s.frames.map((f) => f.changed)).toEqual(s.frames.map(() => pages)); // L2 really wrote both pages every round
    for (const x of s.runs) {
      expect(x.onVmcs02).toBe(true);
      expect(x.pmlAddress).toBe(s.vmx!.pmlHpa);
      expect(x.mmu!.tableKind).toBe('shadow-ept');
      expect(x.guestCr3).toBe(SIMPLE_L2_CR3); // the engine's own (5.4) GUEST_CR3 handling
    }
    if (pml === 'pre-fix') {
      expect(s.frames.map((f) => f.dirtyData)).toEqual([pages, [], [], [], []]);
      // round 1: GET had cleared D, so PML logged the L2 GPAs, and the flush marked them as L1 gfns in slot 0
      const logged = s.runs.filter((x) => x.frame === 1).flatMap((x) => x.mmu!.pmlGpas);
      expect([...logged].sort()).toEqual(pages.map((_, p) => l2DataGpa(p)).sort());
      expect(s.frames[1]!.dirtyKernel).toEqual(expect.arrayContaining(logged.map((g) => Number(g >> 12n))));
    } else {
      expect(s.frames.map((f) => f.dirtyData)).toEqual(s.frames.map(() => pages));
      expect(pmlFromL2(s.runs)).toBe(0);
    }
  });

  it('the Muen-like L1 on kvm-mmu-pml alone: the engine keeps Linux 5.4\'s GUEST_CR3 handling, i.e. nvmx-cr3 pre-fix\'s', () => {
    const r = runMuen({ pml, seed: SEED, frames: FRAMES });
    const withCr3 = runMuen({ pml, cr3: 'pre-fix', seed: SEED, frames: FRAMES });
    expect(r.corruptions.length).toBeGreaterThan(0);
    expect(r.corruptions).toEqual(withCr3.corruptions);
    expect(cr3View(r.entries)).toEqual(cr3View(withCr3.entries));
    expect(r.frames).toEqual(withCr3.frames);
  });
});

describe('composition errors', () => {
  it('the two plugins cannot disagree on kvm_intel parameters, and neither can be installed twice', () => {
    const make = (plugins: ReturnType<typeof kvmMmuPml>[]) => () => createHypervisor({ arch: 'x86_64', plugins });
    expect(make([kvmMmuPml(), nvmxCr3({ enableEpt: false })])).toThrow(CompositionError);
    expect(make([kvmMmuPml(), nvmxCr3({ enableEpt: false })])).toThrow(/ept/);
    expect(make([kvmMmuPml({ variant: 'pre-fix' }), kvmMmuPml()])).toThrow(/installed twice/);
    expect(make([nvmxCr3({ variant: 'pre-fix' }), nvmxCr3()])).toThrow(/installed twice/);
  });
});
