/**
 * EPT violations while L2 runs on shadow EPT: KVM walks L1's EPT12 (real 8-byte entries in L1
 * memory) to find the L1 gfn behind the L2 GPA, then builds the EPT02 leaf with set_spte(), and
 * write-tracks the EPT12 entries it used. A write-protected leaf takes the same full walk: there is
 * no fast path for shadow EPT. FNAME(page_fault) with PTTYPE_EPT, arch/x86/kvm/paging_tmpl.h; the
 * walk and the injection of an EPT12 miss into L1 are hypervisor-core's (ept12-walk.ts).
 */
import {
  EptWalkHalves, eptpAdEnabled, eptViolationQualification, EPT_POINTER, getVmcs12, injectEpt12Violation, l1TableEntries, VMX_EPT_DIRTY_BIT,
  VMX_EPT_EXECUTABLE_MASK, VMX_EPT_WRITABLE_MASK, walkEptHalves, type EptEntryMemory,
} from '@kvmlab/hypervisor-core';
import { setSpte } from './set-spte.js';
import type { ExitResult, KvmMmuState } from './shapes.js';
import type { VcpuVmx } from './vcpu-vmx.js';

/** Flags of an EPT entry's low half, as numbers. */
const WRITABLE = Number(VMX_EPT_WRITABLE_MASK);
const EXECUTABLE = Number(VMX_EPT_EXECUTABLE_MASK);
const DIRTY = Number(VMX_EPT_DIRTY_BIT);

/** 2^53 as a bigint: below it an address is exact in a double. */
const EXACT_LIMIT = 1n << 53n;

/** L1's memory as the EPT12 walker reads it, one per MMU: A/D written back by KVM marks the table page dirty. */
const tableMemory = new WeakMap<KvmMmuState, EptEntryMemory>();
/** The walk's result, reused: a fault handler finishes with it before the next walk starts. */
const walk = new EptWalkHalves();

// models ept_page_fault(): FNAME(walk_addr) over EPT12, then FNAME(fetch) → set_spte(L1 gfn)
export function eptPageFault(m: KvmMmuState, v: VcpuVmx, l2Gpa: bigint, write: boolean): ExitResult {
  const eptp12 = getVmcs12(v.nv).get(EPT_POINTER);
  let mem = tableMemory.get(m);
  if (mem === undefined) tableMemory.set(m, (mem = l1TableEntries(m.vm, (gfn) => m.markPageDirty(gfn))));
  walkEptHalves(mem, eptp12, l2Gpa, write, false, walk); // FNAME(walk_addr) of EPTP12, as walkEpt12 does
  if (!walk.ok) {
    // EPT12 does not allow it, so it is L1's EPT violation (nested_ept_inject_page_fault()).
    injectEpt12Violation(v.nv, l2Gpa, eptViolationQualification(walk.toResult(), { write }));
    return 'reflected';
  }
  const gfn = Math.floor(walk.pa / 4096);
  const slot = m.vm.memslots.findByGfnNumber(gfn);
  if (slot === undefined || (write && slot.readonly)) return 'mmio';
  if (write && m.tracker.isTracked(gfn)) return { emulate: BigInt(gfn) << 12n }; // page_fault_handle_page_track()
  let writable = (walk.rwx & WRITABLE) !== 0 && !slot.readonly;
  // FNAME(protect_clean_gpte): a read through a clean EPT12 leaf maps read-only, so that the
  // first write faults and sets D in EPT12.
  if (!write && eptpAdEnabled(eptp12) && (walk.leafLo & DIRTY) === 0) writable = false;
  // in doubles below 2^53 (no bigint shift per fault), as cpuWrite forms the gfn it looks up
  const inGfn = l2Gpa < EXACT_LIMIT ? Math.floor(Number(l2Gpa) / 4096) : Number(l2Gpa >> 12n);
  const old = v.activeTable.entries.get(inGfn);
  if (write && old !== undefined && (old.lo & WRITABLE) === 0) v.exits.writeProtectFaults++;
  const leaf = setSpte(m, v, {
    table: v.activeTable,
    inGfn,
    gfn,
    slot,
    writable,
    executable: (walk.rwx & EXECUTABLE) !== 0,
  });
  // account_shadowed(): the EPT12 pages of this walk are now write-tracked
  if (leaf.ept12Entries === undefined) m.tracker.track(m, leaf, walk.path.slice(0, walk.pathLength));
  return 'retry';
}
