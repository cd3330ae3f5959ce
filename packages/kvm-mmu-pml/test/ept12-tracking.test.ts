/**
 * Write tracking of L1's EPT12 pages (account_shadowed() / kvm_mmu_pte_write(), mmu.c of v5.4):
 * how L2 comes to see L1's changes to EPT12 now that INVEPT is emulated as 5.3/5.4 do (nothing).
 * Tracking is not a variant switch, so both variants must behave the same here.
 */
import {
  bitmapPages,
  EXIT_REASON_EPT_VIOLATION,
  invept,
  VMX_EPT_ACCESS_BIT,
  VMX_EPT_DIRTY_BIT,
  VMX_EPT_EXTENT_CONTEXT,
  VMX_EPT_RWX_MASK,
} from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import { PT_WRITABLE_MASK, SPTE_MMU_WRITEABLE } from '../src/constants.js';
import { VARIANTS } from '../src/host/spte.js';
import { exitsOf, L1_PAGE0, L2_UCALL_PAGE, rig } from './helpers.js';

const gfn = (gpa: bigint): number => Number(gpa >> 12n);
/** The EPT12 leaf value the rig writes, pointing at L1 page `pa`. */
const leafFor = (pa: bigint): bigint => pa | VMX_EPT_RWX_MASK | (6n << 3n) | VMX_EPT_ACCESS_BIT | VMX_EPT_DIRTY_BIT;

describe.each(VARIANTS)('EPT12 write tracking (%s)', (variant) => {
  it('a shadow-EPT leaf write-protects the EPT12 pages of its walk, also in the TDP leaves that already mapped them writable', () => {
    const r = rig(variant);
    const pt = r.tablePages[3]!;
    expect(r.tablePages.map((p) => r.m.tracker.isTracked(gfn(p)))).toEqual([false, false, false, false]);
    // Before any shadowing, L1's store to its EPT12 page is an ordinary store: a writable TDP leaf.
    r.l1Write(pt + 0x800n, 0n);
    const tdpLeaf = r.m.rmap.get(gfn(pt))[0]!;
    expect(tdpLeaf.value & PT_WRITABLE_MASK).toBe(PT_WRITABLE_MASK);
    expect(r.v.exits.trackedWritesEmulated).toBe(0);
    r.write(0xc0001000n);
    expect(r.tablePages.map((p) => r.m.tracker.isTracked(gfn(p)))).toEqual([true, true, true, true]);
    expect(tdpLeaf.value & (PT_WRITABLE_MASK | SPTE_MMU_WRITEABLE)).toBe(0n); // rmap_write_protect(pt_protect): no fast path either
    expect(r.m.tracker.isTracked(gfn(L1_PAGE0))).toBe(false);
    // Now the same store faults and L0 emulates it: the memory changes, the leaf stays read-only.
    const ev = exitsOf(r.v, EXIT_REASON_EPT_VIOLATION);
    r.l1Write(pt + 0x800n, 0x1234n);
    expect(exitsOf(r.v, EXIT_REASON_EPT_VIOLATION) - ev).toBe(1);
    expect(r.v.exits.trackedWritesEmulated).toBe(1);
    expect(r.vm.memory.readU64(pt + 0x800n)).toBe(0x1234n);
    expect(tdpLeaf.value & PT_WRITABLE_MASK).toBe(0n);
    // mmu_need_write_protect(): a tracked page L1 first reads is mapped read-only, so its first store is emulated too
    const pd = r.tablePages[2]!;
    expect(r.m.rmap.get(gfn(pd))).toEqual([]);
    r.vcpu.read(pd, 8);
    expect(r.m.rmap.get(gfn(pd))[0]!.value & PT_WRITABLE_MASK).toBe(0n);
    r.l1Write(pd + 0x800n, 0x5678n);
    expect(r.v.exits.trackedWritesEmulated).toBe(2);
  });

  it('an L1 store to the EPT12 leaf entry zaps the shadow leaf built from it: L2’s next access walks EPT12 again and reaches the new page', () => {
    const r = rig(variant, { logSlot0: true });
    r.write(0xc0001000n, 0x11n);
    expect(r.get()).toEqual([0]);
    bitmapPages(r.vm.getDirtyLog(0)); // harvest slot 0 too
    const old = r.m.rmap.get(0xc0000)[0]!;
    const zapped = r.m.stats.zapped;
    r.l1Write(r.leafAddr, leafFor(L1_PAGE0 + 0x2000n)); // L1 remaps L2 0xc0001000 → its page 2
    expect(r.v.exits.trackedWritesEmulated).toBe(1);
    expect(r.m.stats.zapped - zapped).toBe(1);
    expect(r.m.rmap.get(0xc0000)).toEqual([]);
    expect(r.m.shadowTable(r.eptp12).entries.has(0xc0001)).toBe(false);
    expect(old.ept12Entries).toBeUndefined();
    // kvm_write_guest() of the emulated store marks the table page dirty in its (logging) slot
    expect(bitmapPages(r.vm.getDirtyLog(0))).toContain(gfn(r.tablePages[3]!));
    const ev = exitsOf(r.v, EXIT_REASON_EPT_VIOLATION);
    r.write(0xc0001000n, 0x22n);
    expect(exitsOf(r.v, EXIT_REASON_EPT_VIOLATION) - ev).toBe(1);
    expect(r.vm.memory.readU64(L1_PAGE0 + 0x2000n)).toBe(0x22n);
    expect(r.vm.memory.readU64(L1_PAGE0)).toBe(0x11n);
    expect(r.get()).toEqual([2]);
    expect(r.m.rmap.get(0xc0002)).toHaveLength(1);
  });

  it('a 4-byte store into the upper half of the entry zaps too; a store to an entry no leaf was built through zaps nothing', () => {
    const r = rig(variant);
    r.write(0xc0001000n);
    const leaf = r.m.rmap.get(0xc0000)[0]!;
    const neighbour = r.leafAddr + 8n; // the PT entry for L2 0xc0002000: nothing shadows it
    r.l1Write(neighbour, leafFor(L1_PAGE0 + 0x1000n));
    expect(r.v.exits.trackedWritesEmulated).toBe(1);
    expect(r.m.rmap.get(0xc0000)).toEqual([leaf]);
    const ev = exitsOf(r.v, EXIT_REASON_EPT_VIOLATION);
    r.write(0xc0001000n, 2n);
    expect(exitsOf(r.v, EXIT_REASON_EPT_VIOLATION) - ev).toBe(0);
    r.l1Write(r.leafAddr + 4n, 0n, 4); // the entry's high half: same value, still a write to the entry
    expect(r.v.exits.trackedWritesEmulated).toBe(2);
    expect(r.m.rmap.get(0xc0000)).toEqual([]);
    const ev2 = exitsOf(r.v, EXIT_REASON_EPT_VIOLATION);
    r.write(0xc0001000n, 3n);
    expect(exitsOf(r.v, EXIT_REASON_EPT_VIOLATION) - ev2).toBe(1);
    expect(r.vm.memory.readU64(L1_PAGE0)).toBe(3n);
  });

  it('a store to a non-leaf EPT12 entry (the PD entry) zaps every leaf walked through it', () => {
    const r = rig(variant);
    r.write(0xc0001000n);
    r.write(L2_UCALL_PAGE);
    const pdEntry = r.tablePages[2]! + ((0xc0001000n >> 21n) & 0x1ffn) * 8n;
    r.l1Write(pdEntry, r.vm.memory.readU64(pdEntry)); // rewrite it unchanged
    expect(r.m.rmap.get(0xc0000)).toEqual([]);
    expect(r.m.rmap.get(gfn(L2_UCALL_PAGE))).toHaveLength(1); // walked through another PD
  });

  it('INVEPT no longer needs to zap: it succeeds, the shadow leaf stays and L2’s next store takes no fault', () => {
    const r = rig(variant);
    r.write(0xc0001000n);
    const leaf = r.m.rmap.get(0xc0000)[0]!;
    const zapped = r.m.stats.zapped;
    expect(invept(r.vcpu).status).toBe('ok');
    expect(invept(r.vcpu, VMX_EPT_EXTENT_CONTEXT, r.eptp12).status).toBe('ok');
    expect(r.m.stats.zapped).toBe(zapped);
    expect(r.m.rmap.get(0xc0000)).toEqual([leaf]);
    expect(r.nested.opsOwners.has('invept')).toBe(false);
    const ev = exitsOf(r.v, EXIT_REASON_EPT_VIOLATION);
    r.write(0xc0001000n, 2n);
    expect(exitsOf(r.v, EXIT_REASON_EPT_VIOLATION) - ev).toBe(0);
    // L1's usual sequence — change EPT12, then INVEPT — takes effect through the tracked store
    r.l1Write(r.leafAddr, leafFor(L1_PAGE0 + 0x1000n));
    expect(invept(r.vcpu).status).toBe('ok');
    r.write(0xc0001000n, 7n);
    expect(r.vm.memory.readU64(L1_PAGE0 + 0x1000n)).toBe(7n);
    expect(r.vm.memory.readU64(L1_PAGE0)).toBe(2n);
  });

  it('when the last leaf built through a table page goes, the page is untracked; pages other leaves still use stay tracked', () => {
    const r = rig(variant);
    r.write(0xc0001000n);
    r.write(L2_UCALL_PAGE);
    const [pml4, pdpt, pd, pt] = r.tablePages.map(gfn) as [number, number, number, number];
    r.vm.setUserMemoryRegion({ slot: 1, flags: 0, guestPhysAddr: L1_PAGE0, memorySize: 0n }); // drops the 0xc0001000 leaf
    expect([pml4, pdpt, pd, pt].map((g) => r.m.tracker.isTracked(g))).toEqual([true, true, false, false]);
    // An L1 store to the untracked PT page is an ordinary store again (mapped writable, not emulated)
    r.l1Write(r.tablePages[3]! + 0x800n, 5n);
    expect(r.v.exits.trackedWritesEmulated).toBe(0);
    expect(r.m.rmap.get(pt)[0]!.value & PT_WRITABLE_MASK).toBe(PT_WRITABLE_MASK);
    r.l1Write(r.tablePages[0]! + 0x800n, 5n);
    expect(r.v.exits.trackedWritesEmulated).toBe(1);
  });
});
