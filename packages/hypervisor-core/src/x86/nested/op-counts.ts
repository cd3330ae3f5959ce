/**
 * VMREAD/VMWRITE accounting per nested entry and per nested exit, on L0's real VMCSs (vmcs01 and
 * vmcs02): the figure "Skip GUEST_CR3 VMREAD+VMWRITE if the VMCS is up-to-date" changes. An entry
 * is measured from L1's VMLAUNCH/VMRESUME exit to the first real L2 entry (or the squash); an exit
 * from nested_vmx_vmexit() to the re-entry of L1.
 */
import { GUEST_CR3 } from '../vmcs-fields.js';
import type { CountMark, NestedVcpuState } from './shapes.js';
import { countMark, emit, now } from './state.js';

function delta(nv: NestedVcpuState, m: CountMark): CountMark {
  const n = countMark(nv);
  return { r: n.r - m.r, w: n.w - m.w, fr: n.fr - m.fr, fw: n.fw - m.fw };
}

/** Closes the entry measurement (no-op if none is open). */
export function finishEntryCount(nv: NestedVcpuState, squashed: boolean, vmptr: bigint): void {
  const m = nv.entryMark;
  if (m === null) return;
  nv.entryMark = null;
  const d = delta(nv, m);
  const s = nv.stats;
  s.entryVmreads += d.r;
  s.entryVmwrites += d.w;
  s.entryCr3Vmreads += d.fr;
  s.entryCr3Vmwrites += d.fw;
  emit(nv, { kind: 'nested-entry', at: now(nv), vmptr, launch: nv.entryLaunch, squashed, vmreads: d.r, vmwrites: d.w, cr3Vmreads: d.fr, cr3Vmwrites: d.fw });
}

/** Closes the exit measurement once L1 is entered again. */
export function finishExitCount(nv: NestedVcpuState): void {
  const m = nv.exitMark;
  const last = nv.lastExit;
  if (m === null || last === null) return;
  nv.exitMark = null;
  const d = delta(nv, m);
  const s = nv.stats;
  s.exitVmreads += d.r;
  s.exitVmwrites += d.w;
  s.exitCr3Vmreads += d.fr;
  s.exitCr3Vmwrites += d.fw;
  emit(nv, {
    kind: 'nested-exit', at: now(nv), vmptr: last.vmptr, reason: last.reason, guestCr3: last.guestCr3,
    vmcs02Cr3: nv.vmcs02.peek(GUEST_CR3), vmreads: d.r, vmwrites: d.w, cr3Vmreads: d.fr, cr3Vmwrites: d.fw,
  });
}
