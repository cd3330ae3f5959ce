/**
 * L1's EPT12 as KVM walks it for L2 (FNAME(walk_addr_generic) with PTTYPE_EPT, arch/x86/kvm/
 * paging_tmpl.h of v5.4): real 8-byte entries in L1's memory, A/D written back as
 * FNAME(update_accessed_dirty_bits) does (a write by KVM, so the table page is marked dirty), and a
 * failed walk injected into L1 as an EPT violation (nested_ept_inject_page_fault(), nested.c).
 */
import { EXIT_REASON_EPT_VIOLATION } from '../vmx-exit-reasons.js';
import { walkEpt, type EptMemory, type EptWalkResult } from '../ept.js';
import type { EptEntryMemory } from '../ept-walk-halves.js';
import { EPT_POINTER, GUEST_PHYSICAL_ADDRESS } from '../vmcs-fields.js';
import type { Vm } from '../../vm/vm.js';
import type { NestedVcpuState } from './shapes.js';
import { getVmcs12 } from './state.js';
import { hardwareExitBookkeeping } from './vcpu-run.js';
import { nestedVmxVmexit } from './vmexit.js';

/**
 * L1 memory as KVM's guest-table walker sees it: an entry outside L1's slots reads as not present;
 * an A/D update is a write by KVM, which marks the table page dirty (`mark`, by default
 * kvm_vcpu_mark_page_dirty()).
 */
export function l1TableMemory(vm: Vm, mark: (gfn: bigint) => void = (gfn) => void vm.markPageDirty(gfn)): EptMemory {
  const mem = vm.memory;
  return {
    readU64: (pa) => ((pa & 7n) === 0n ? mem.readU64IfMapped(pa) ?? 0n : 0n),
    writeU64: (pa, value) => {
      if ((pa & 7n) !== 0n || !mem.isMapped(pa, 8)) return;
      mem.writeU64(pa, value);
      mark(pa >> 12n);
    },
  };
}

/** l1TableMemory for walkEptHalves: the same reads and the same marked A/D writes, with number addresses. */
export function l1TableEntries(vm: Vm, mark: (gfn: number) => void = (gfn) => void vm.markPageDirty(BigInt(gfn))): EptEntryMemory {
  const mem = vm.memory;
  return {
    readEntry: (pa, out) => void mem.readEntryHalves(pa, out),
    writeEntry: (pa, lo, hi) => {
      if (mem.writeEntryHalves(pa, lo, hi)) mark(Math.floor(pa / 4096));
    },
  };
}

/** Walks EPTP12 for an L2 access. */
export function walkEpt12(nv: NestedVcpuState, l2Gpa: bigint, access: { readonly write?: boolean; readonly fetch?: boolean }, mem?: EptMemory): EptWalkResult {
  return walkEpt(mem ?? l1TableMemory(nv.vcpu.vm), getVmcs12(nv).get(EPT_POINTER), l2Gpa, access);
}

/** EPT-violation exit qualification (SDM table 27-7): the access (bits 2:0) and what EPT12 allowed (bits 5:3). */
export function eptViolationQualification(walk: EptWalkResult, access: { readonly write?: boolean; readonly fetch?: boolean }): bigint {
  const kind = access.fetch === true ? 4n : access.write === true ? 2n : 1n;
  return kind | (walk.rwx << 3n);
}

/**
 * models nested_ept_inject_page_fault() (nested.c): the hardware exit that found EPT12 lacking,
 * then a nested VM exit 48 to L1 with the L2 address in GUEST_PHYSICAL_ADDRESS.
 */
export function injectEpt12Violation(nv: NestedVcpuState, l2Gpa: bigint, qualification: bigint): void {
  hardwareExitBookkeeping(nv);
  const v12 = getVmcs12(nv);
  nestedVmxVmexit(nv, EXIT_REASON_EPT_VIOLATION, 0, qualification);
  v12.set(GUEST_PHYSICAL_ADDRESS, l2Gpa);
}

/**
 * The L1 GPA behind an L2 access when no EPT MMU plugin models shadow EPT: L2 on EPT12 is
 * translated through it (null: the walk failed and L1 now has the EPT violation); L2 without
 * EPT12 uses L1's addresses directly.
 */
export function translateL2Gpa(nv: NestedVcpuState, l2Gpa: bigint, write: boolean): bigint | null {
  if (nv.mmu !== nv.guestMmu) return l2Gpa;
  const walk = walkEpt12(nv, l2Gpa, { write });
  if (walk.ok) return walk.pa;
  injectEpt12Violation(nv, l2Gpa, eptViolationQualification(walk, { write }));
  return null;
}
