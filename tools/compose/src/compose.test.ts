/**
 * Issue 13: kvm-mmu-pml and nvmx-cr3 in one hypervisor, in each of the 2 × 3 variant combinations,
 * running nvmx-cr3's Muen-like L1 whose subjects write their data pages under PML, with dirty
 * logging on. Both mechanisms act on the one vmcs02 of the vCPU: kvm-mmu-pml's PML page and
 * shadow-EPT root are in it while nvmx-cr3's variant decides its GUEST_CR3; the PML bug depends
 * only on kvm-mmu-pml's variant and the CR3 bug only on nvmx-cr3's.
 */
import { GUEST_CR3 } from '@kvmlab/hypervisor-core';
import { kvmMmuOf, KvmMmuPml } from '@kvmlab/kvm-mmu-pml';
import { NVMX_SERVICE, type NvmxService } from '@kvmlab/nvmx-cr3';
import { describe, expect, it } from 'vitest';
import {
  cr3View, firstWrites, lostWrites, perEntry, pmlFromL2, rewrites, spuriousDirty, staleSquashes, totalWrites, vmcsCountDiff,
} from './figures.js';
import { DATA_PAGES, ept12Translate, muenDataL1Gpa, NATIVE_CR3, runMuen, type MuenRun } from './muen-rig.js';
import { COMBINATIONS, l2DataGpa, type NvmxVariant, type PmlVariant } from './rig.js';
import { runSimpleL1 } from './simple-l1.js';

const SEED = 1;
const FRAMES = 48;

const cache = new Map<string, MuenRun>();
const run = (pml: PmlVariant | undefined, cr3: NvmxVariant | undefined): MuenRun => {
  const key = `${pml}/${cr3}`;
  let r = cache.get(key);
  if (r === undefined) cache.set(key, (r = runMuen({ pml, cr3, seed: SEED, frames: FRAMES })));
  return r;
};

/** The engine hooks each plugin fills (hypervisor-core README, "The hook table"). */
const MMU_HOOKS = ['flushPml', 'hardwareEntry', 'mmuAllocRoot', 'nestedEptInit', 'nestedEptUninit', 'pmlAddress'];
const CR3_HOOKS: Record<NvmxVariant, string[]> = {
  'pre-fix': [], // Linux 5.3/5.4 is the engine's own behaviour
  'rfc-muen': ['nestedLoadCr3'],
  merged: ['prepareVmcs02Cr3', 'vmxSetCr3GuestCr3'],
};

/**
 * GUEST_CR3 VMWRITEs into vmcs02 per nested entry (spec nvmx-pml.md §2), for an entry that
 * reaches L2 and for a HLT-squashed one. pre-fix: only vmx_set_cr3() in vcpu_enter_guest(), which
 * a squashed entry never reaches; rfc-muen: nested_vmx_load_cr3() at every entry, plus
 * vmx_set_cr3(); merged: prepare_vmcs02() at every entry, and vmx_set_cr3() skips it in guest mode.
 */
const VMCS02_CR3_WRITES: Record<NvmxVariant, { entered: number; squashed: number }> = {
  'pre-fix': { entered: 1, squashed: 0 },
  'rfc-muen': { entered: 2, squashed: 1 },
  merged: { entered: 1, squashed: 1 },
};

/** The only VMCS fields whose op counts kvm-mmu-pml adds to nvmx-cr3's runs: its own PML fields. */
const PML_FIELDS = ['vmcs01.GUEST_PML_INDEX', 'vmcs02.GUEST_PML_INDEX', 'vmcs02.PML_ADDRESS'];

const hooksOf = (api: { readonly opsOwners: ReadonlyMap<string, string> }, owner: string): string[] =>
  [...api.opsOwners].filter(([, o]) => o === owner).map(([h]) => h).sort();

describe.each(COMBINATIONS)('kvm-mmu-pml %s + nvmx-cr3 %s, Muen-like L1 with writing subjects', (pml, cr3) => {
  it('one nested-VMX engine: the plugins fill disjoint hooks and share the vCPU\'s nested state (one vmcs02)', () => {
    const r = run(pml, cr3);
    const api = r.hv.nestedVmx!;
    expect(hooksOf(api, 'kvm-mmu-pml')).toEqual(MMU_HOOKS);
    expect(hooksOf(api, 'nvmx-cr3')).toEqual([...CR3_HOOKS[cr3]].sort());
    expect(api.opsOwners.size).toBe(MMU_HOOKS.length + CR3_HOOKS[cr3].length);
    expect(api.params).toMatchObject({ ept: true, eptAd: true, pml: true });
    expect(r.vm.mmu).toBeInstanceOf(KvmMmuPml);
    // nvmx-cr3's service and kvm-mmu-pml's per-vCPU state both hold the engine's state of this vCPU
    const svc = r.hv.decoration<NvmxService>(NVMX_SERVICE)!;
    expect(svc.nested(r.vcpu)).toBe(r.nv);
    expect(kvmMmuOf(r.vm).vcpuVmx(r.vcpu).nv).toBe(r.nv);
    expect(r.nv.vmcs02).not.toBe(r.nv.vmcs01);
  });

  it('install order does not matter: nvmx-cr3 installed first gives the same run', () => {
    const a = run(pml, cr3);
    const b = runMuen({ pml, cr3, seed: SEED, frames: FRAMES, order: 'cr3-first' });
    expect(b.entries).toEqual(a.entries);
    expect(b.runs).toEqual(a.runs);
    expect(b.frames).toEqual(a.frames);
    expect(b.corruptions).toEqual(a.corruptions);
  });

  it('every L2 run is on the one vmcs02, which holds kvm-mmu-pml\'s PML page and the shadow-EPT root of the subject\'s EPTP12', () => {
    const r = run(pml, cr3);
    expect(r.runs.length).toBeGreaterThan(10);
    const rootOf = new Map<number, bigint>();
    for (const x of r.runs) {
      const at = `frame ${x.frame}, subject ${x.subject}`;
      expect(x.onVmcs02, at).toBe(true);
      const m = x.mmu!;
      expect(x.pmlAddress, at).toBe(r.vmx!.pmlHpa); // vmx->pml_pg, the one kvm-mmu-pml flushes
      expect(m.pmlHpa, at).toBe(r.vmx!.pmlHpa);
      expect(x.vmcs02PmlEnabled, at).toBe(true); // L0's ENABLE_PML stays in vmcs02 (both variants: the fix is elsewhere)
      expect(m.pmlOn && m.adActive, at).toBe(true); // the CPU loaded PML and A/D from vmcs02
      expect(m.tableKind, at).toBe('shadow-ept');
      expect(m.tableShadows, at).toBe(x.eptp12); // EPTP02 names the shadow of this subject's EPTP12
      expect(m.walksEptp02, at).toBe(true);
      const root = rootOf.get(x.subject) ?? x.eptp02;
      expect(x.eptp02, at).toBe(root);
      rootOf.set(x.subject, root);
    }
    expect(rootOf.size).toBe(r.subjects.length);
    expect(new Set(rootOf.values()).size).toBe(rootOf.size); // a shadow root per EPTP12
  });

  it('in that same vmcs02, GUEST_CR3 is what nvmx-cr3\'s variant wrote: per-entry VMWRITEs, and the CR3 each L2 runs with', () => {
    const r = run(pml, cr3);
    expect(r.entries.map((e) => e.frame)).toEqual(r.frames.map((f) => f.frame)); // one nested entry per minor frame
    const entered = r.entries.filter((e) => !e.squashed);
    expect(entered.length).toBeGreaterThan(10);
    expect(r.entries.length - entered.length).toBeGreaterThan(10);
    const w = VMCS02_CR3_WRITES[cr3];
    expect(perEntry(r.entries, (e) => e.vmcs02Cr3Vmwrites)).toEqual({ entered: [w.entered], squashed: [w.squashed] });
    // the engine's own per-entry count (vmcs01 + vmcs02) agrees: vmcs01 is not written on the way in
    expect(perEntry(r.entries, (e) => e.cr3Vmwrites)).toEqual({ entered: [w.entered], squashed: [w.squashed] });
    for (const e of entered) expect(e.vmcs02Cr3, `frame ${e.frame}`).toBe(e.vmcs12Cr3);
    for (const x of r.runs) if (x.subject < NATIVE_CR3.length) expect(x.guestCr3, `frame ${x.frame}`).toBe(NATIVE_CR3[x.subject]);
    expect(r.vmcs02Cr3WritesInL2).toBe(0); // nothing VMWRITEs GUEST_CR3 while L2 runs or exits
    expect(r.nv.vmcs02.countsOf(GUEST_CR3).vmwrites).toBe(r.entries.reduce((a, e) => a + e.vmcs02Cr3Vmwrites, 0));
  });

  it('HLT-squashed entries leave vmcs02 a stale GUEST_CR3 only with nvmx-cr3 pre-fix, and Muen detects exactly those', () => {
    const r = run(pml, cr3);
    const squashed = r.entries.filter((e) => e.squashed);
    expect(squashed.length).toBeGreaterThan(0);
    const stale = staleSquashes(r.entries);
    if (cr3 === 'pre-fix') {
      for (const e of squashed) expect(e.vmcs02Cr3, `frame ${e.frame}`).toBe(e.vmcs02Cr3Before); // nothing wrote it
      expect(stale.length).toBeGreaterThan(0);
    } else {
      expect(stale).toEqual([]);
    }
    // Muen's check fires once per stale squash, with the stale value: "CR3 of subject N changed"
    expect(r.corruptions.map((c) => [c.frame, c.subject, c.found, c.expected])).toEqual(stale.map((e) => [e.frame, e.subject, e.vmcs02Cr3, e.vmcs12Cr3]));
    expect(r.corruptions.length > 0).toBe(cr3 === 'pre-fix');
  });

  it('the L1 pages the subjects write are the ones their EPT12 maps, and only those change', () => {
    const r = run(pml, cr3);
    const expected = r.subjects.map((s, i) => {
      for (let p = 0; p < DATA_PAGES; p++) expect(ept12Translate(r, i, l2DataGpa(p))).toBe(muenDataL1Gpa(i, p));
      return (s.writes ?? []).map((p) => Number(ept12Translate(r, i, l2DataGpa(p))! >> 12n));
    });
    for (const f of r.frames) for (const g of f.changed) expect(expected[f.subject], `frame ${f.frame}`).toContain(g);
    const ran = new Set(r.runs.map((x) => x.subject));
    const everChanged = new Set(r.frames.flatMap((f) => f.changed));
    expect([...everChanged].sort()).toEqual([...new Set([...ran].flatMap((s) => expected[s]!))].sort());
    expect(totalWrites(r.frames)).toBeGreaterThan(25);
    expect(rewrites(r.frames)).toBeGreaterThan(10);
  });

  it(pml === 'pre-fix'
    ? 'PML logs the subjects\' L2 GPAs from their L2 runs: the wrong gfns are marked and every rewrite of a page is lost'
    : 'no PML entry from L2: write protection marks exactly the L1 pages the subjects wrote', () => {
    const r = run(pml, cr3);
    expect(spuriousDirty(r.frames)).toBe(0);
    const lost = lostWrites(r.frames);
    if (pml === 'pre-fix') {
      expect(pmlFromL2(r.runs)).toBeGreaterThan(0);
      for (const x of r.runs) {
        const m = x.mmu!;
        const at = `frame ${x.frame}, subject ${x.subject}`;
        expect(m.flushedInside, at).toBe(false); // so the log after the run holds all of its entries
        expect(m.pmlGpas.length, at).toBe(m.pmlLogged);
        if (m.pmlLogged === 0) continue;
        const f = r.frames[x.frame]!;
        // the nested entry of this run put the subject's own CR3 into the vmcs02 that PML logged through
        const entry = r.entries[x.frame]!;
        expect([entry.squashed, entry.vmcs02Cr3], at).toEqual([false, entry.vmcs12Cr3]);
        for (const gpa of m.pmlGpas) {
          expect((r.subjects[x.subject]!.writes ?? []).map(l2DataGpa), at).toContain(gpa); // an L2 GPA of a page it writes
          const l1 = ept12Translate(r, x.subject, gpa)!;
          expect(l1, at).not.toBe(gpa);
          expect(f.changed, at).toContain(Number(l1 >> 12n)); // the page really changed…
          expect(f.dirtyData, at).not.toContain(Number(l1 >> 12n)); // …and is not in the dirty log
          expect(f.dirtyKernel, at).toContain(Number(gpa >> 12n)); // the L2 GFN was marked as an L1 gfn instead
        }
      }
      // set_spte() marks a page at its first write; after that GET clears D, PML takes the write, D stays set
      expect(r.frames.map((f) => f.dirtyData)).toEqual(firstWrites(r.frames));
      expect(lost.length).toBe(rewrites(r.frames));
      expect(lost.length).toBeGreaterThan(10);
    } else {
      expect(pmlFromL2(r.runs)).toBe(0);
      expect(r.frames.map((f) => f.dirtyData)).toEqual(r.frames.map((f) => f.changed));
      expect(lost).toEqual([]);
      // every write went through a write-protect fault on an AD_WRPROT_ONLY shadow-EPT SPTE
      expect(r.runs.reduce((a, x) => a + x.mmu!.writeProtectFaults, 0)).toBe(totalWrites(r.frames));
      const l2Gfns = Array.from({ length: DATA_PAGES }, (_, p) => Number(l2DataGpa(p) >> 12n));
      for (const f of r.frames) for (const g of l2Gfns) expect(f.dirtyKernel, `frame ${f.frame}`).not.toContain(g);
    }
  });

  it('kvm-mmu-pml does not change the GUEST_CR3 mechanism: entries, detections and timing equal nvmx-cr3 alone for the seed', () => {
    const r = run(pml, cr3);
    const alone = run(undefined, cr3);
    expect(cr3View(r.entries)).toEqual(cr3View(alone.entries));
    expect(r.corruptions).toEqual(alone.corruptions);
    expect(r.simNs).toBe(alone.simNs);
    expect(r.runs.map((x) => [x.frame, x.subject, x.guestCr3])).toEqual(alone.runs.map((x) => [x.frame, x.subject, x.guestCr3]));
    expect(r.frames.map((f) => f.changed)).toEqual(alone.frames.map((f) => f.changed)); // the subjects wrote the same
    // L0's VMCS operations differ only in kvm-mmu-pml's own PML fields (never GUEST_CR3)
    const diff = vmcsCountDiff(r.nv, alone.nv);
    expect(diff.length).toBeGreaterThan(0);
    for (const f of diff) expect(PML_FIELDS).toContain(f);
  });
});

describe('the two bugs are independent (fixed seed, all six combinations)', () => {
  it('Muen\'s detections depend only on nvmx-cr3\'s variant, the lost pages only on kvm-mmu-pml\'s', () => {
    const corr = (p: PmlVariant, c: NvmxVariant): number => run(p, c).corruptions.length;
    const lost = (p: PmlVariant, c: NvmxVariant): number => lostWrites(run(p, c).frames).length;
    for (const c of ['pre-fix', 'rfc-muen', 'merged'] as const) {
      expect(run('pre-fix', c).corruptions).toEqual(run('merged', c).corruptions);
      expect(corr('pre-fix', c) > 0).toBe(c === 'pre-fix');
      expect(lost('merged', c)).toBe(0);
      expect(lost('pre-fix', c)).toBe(rewrites(run('pre-fix', c).frames));
      expect(lost('pre-fix', c)).toBeGreaterThan(0);
    }
    // rfc-muen and merged write the same vmcs02 value at the same points in time, so their runs agree page for page
    for (const p of ['pre-fix', 'merged'] as const) expect(run(p, 'rfc-muen').frames).toEqual(run(p, 'merged').frames);
  });

  it('a plain L1 composed with either nvmx-cr3 variant gets kvm-mmu-pml\'s dirty log unchanged', () => {
    for (const [pml, cr3] of COMBINATIONS) {
      const both = runSimpleL1({ pml, cr3, rounds: 4 });
      const alone = runSimpleL1({ pml, rounds: 4 });
      expect(both.frames, `${pml} + ${cr3}`).toEqual(alone.frames);
      expect(pmlFromL2(both.runs), `${pml} + ${cr3}`).toBe(pmlFromL2(alone.runs));
    }
  });
});
