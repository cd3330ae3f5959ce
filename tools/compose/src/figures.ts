/**
 * Figures computed from a run's records (frames, entries, L2 runs): what the dirty log lost, what
 * PML logged from L2, which squashed entries left a stale GUEST_CR3, and the per-entry GUEST_CR3
 * VMWRITE counts. Pure functions of the records: nothing here knows which variant ran.
 */
import { isValidVmcsEncoding, type NestedVcpuState, vmcsFieldName } from '@kvmlab/hypervisor-core';
import type { EntryRecord, L2RunRecord } from './observe.js';

export interface FrameLike {
  readonly changed: readonly number[];
  readonly dirtyData: readonly number[];
}

/** (frame, gfn) pairs whose page changed during the frame but were not in the GET that followed it. */
export function lostWrites(frames: readonly FrameLike[]): { readonly frame: number; readonly gfn: number }[] {
  return frames.flatMap((f, frame) => f.changed.filter((g) => !f.dirtyData.includes(g)).map((gfn) => ({ frame, gfn })));
}

/** Pages reported dirty that did not change (a dirty log may over-report; these tests never see it). */
export function spuriousDirty(frames: readonly FrameLike[]): number {
  return frames.reduce((a, f) => a + f.dirtyData.filter((g) => !f.changed.includes(g)).length, 0);
}

/** Per frame, the changed pages that had never changed before (their first write since boot). */
export function firstWrites(frames: readonly FrameLike[]): number[][] {
  const seen = new Set<number>();
  return frames.map((f) => {
    const first = f.changed.filter((g) => !seen.has(g));
    for (const g of f.changed) seen.add(g);
    return first;
  });
}

/** Writes (frame, page) to a page that had already been written in an earlier frame. */
export const rewrites = (frames: readonly FrameLike[]): number =>
  frames.reduce((a, f) => a + f.changed.length, 0) - firstWrites(frames).reduce((a, f) => a + f.length, 0);

export const totalWrites = (frames: readonly FrameLike[]): number => frames.reduce((a, f) => a + f.changed.length, 0);

/** Squashed entries after which vmcs02.GUEST_CR3 is not the CR3 of the L2 entered. */
export const staleSquashes = (entries: readonly EntryRecord[]): EntryRecord[] => entries.filter((e) => e.squashed && e.vmcs02Cr3 !== e.vmcs12Cr3);

/** PML entries the CPU logged while L2s ran. */
export const pmlFromL2 = (runs: readonly L2RunRecord[]): number => runs.reduce((a, r) => a + (r.mmu?.pmlLogged ?? 0), 0);

/** Distinct values of a per-entry count, for squashed and for entered (non-squashed) entries. */
export function perEntry(entries: readonly EntryRecord[], pick: (e: EntryRecord) => number): { readonly entered: number[]; readonly squashed: number[] } {
  const d = (xs: EntryRecord[]): number[] => [...new Set(xs.map(pick))].sort((a, b) => a - b);
  return { entered: d(entries.filter((e) => !e.squashed)), squashed: d(entries.filter((e) => e.squashed)) };
}

/** The same entries without the all-fields VMREAD/VMWRITE totals (which an MMU plugin's own fields change). */
export const cr3View = (entries: readonly EntryRecord[]): Omit<EntryRecord, 'vmreads' | 'vmwrites'>[] =>
  entries.map(({ vmreads: _r, vmwrites: _w, ...rest }) => rest);

/**
 * The VMCS fields (of vmcs01 and vmcs02) whose VMREAD or VMWRITE totals differ between two runs,
 * as "vmcs0N.FIELD": what one composition does to L0's VMCSs that the other does not.
 */
export function vmcsCountDiff(a: NestedVcpuState, b: NestedVcpuState): string[] {
  const out: string[] = [];
  for (const [name, x, y] of [['vmcs01', a.vmcs01, b.vmcs01], ['vmcs02', a.vmcs02, b.vmcs02]] as const) {
    for (let enc = 0; enc < 0x8000; enc++) {
      if (!isValidVmcsEncoding(enc)) continue;
      const p = x.countsOf(enc);
      const q = y.countsOf(enc);
      if (p.vmreads !== q.vmreads || p.vmwrites !== q.vmwrites) out.push(`${name}.${vmcsFieldName(enc)}`);
    }
  }
  return out;
}
