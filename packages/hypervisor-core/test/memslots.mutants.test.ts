// Memslots checked edge by edge (issue 22: mutation testing found the lookup cache after a move
// or delete, and several boundaries of KVM_SET_USER_MEMORY_REGION, untested).
// Rules: __kvm_set_memory_region() and search_memslots() of virt/kvm/kvm_main.c and
// include/linux/kvm_host.h (Linux 5.4); kvm_mmu_max_gfn() check from x86 5.19+.
import { describe, expect, it } from 'vitest';
import { KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY, KVM_USER_MEM_SLOTS } from '../src/constants.js';
import { KVM_MEM_MAX_NR_PAGES, Memslot, Memslots, type UserMemoryRegion } from '../src/vm/memslots.js';
import { errnoArgumentOf, outcomeOf } from './helpers.js';

const PAGE = 4096n;
const region = (slot: number, gfn: bigint, npages: bigint, flags = 0): UserMemoryRegion => ({
  slot,
  flags,
  guestPhysAddr: gfn * PAGE,
  memorySize: npages * PAGE,
});
const set = (m: Memslots, r: UserMemoryRegion) => m.commit(m.plan(r));
const errno = outcomeOf;
/** search_memslots() by definition: the slot whose [base, base + npages) holds gfn. */
const oracle = (m: Memslots, gfn: bigint, asId = 0) =>
  m.list(asId).find((s) => gfn >= s.baseGfn && gfn < s.baseGfn + BigInt(s.npages));

describe('lookup by gfn (search_memslots) and its last-hit cache', () => {
  it('finds every gfn of several slots with gaps, cold and cached, through both entry points', () => {
    const m = new Memslots();
    // Created out of order so that the sorted list is not the creation order.
    const layout: [number, bigint, bigint][] = [[3, 40n, 3n], [0, 0n, 4n], [5, 100n, 1n], [1, 6n, 2n], [2, 20n, 10n], [4, 50n, 50n], [6, 101n, 7n]];
    for (const [id, gfn, n] of layout) set(m, region(id, gfn, n));
    expect(m.list().map((s) => s.id)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    for (let g = 0n; g < 112n; g++) {
      const want = oracle(m, g)?.id;
      expect(new Memslots().findByGfn(g)).toBeUndefined();
      expect(m.findByGfn(g)?.id, `gfn ${g}`).toBe(want);
      expect(m.findByGfn(g)?.id, `gfn ${g} again`).toBe(want);
      expect(m.findByGfnNumber(Number(g))?.id, `gfn ${g} as a number`).toBe(want);
    }
    // Descending order as well: the cached slot must not answer for its neighbours.
    for (let g = 111n; g >= 0n; g--) {
      expect(m.findByGfnNumber(Number(g))?.id, `gfn ${g} descending`).toBe(oracle(m, g)?.id);
      expect(m.findByGfn(g)?.id, `gfn ${g} descending, bigint`).toBe(oracle(m, g)?.id);
    }
  });

  it('the cached slot does not answer for the gfn just past its end, where the next slot begins', () => {
    const m = new Memslots();
    set(m, region(0, 0x10n, 4n));
    set(m, region(1, 0x14n, 4n));
    expect(m.findByGfnNumber(0x13)?.id).toBe(0);
    expect(m.findByGfnNumber(0x14)?.id).toBe(1);
    expect(m.findByGfnNumber(0x13)?.id).toBe(0);
    expect(m.findByGfn(0x14n)?.id).toBe(1);
    expect(m.findByGfnNumber(0x0f)).toBeUndefined();
    expect(m.findByGfn(0x10n)?.id).toBe(0);
    expect(m.findByGfn(0x0fn)).toBeUndefined();
  });

  it('after a move the old gfns are no longer found, even when they were the cached hit', () => {
    const m = new Memslots();
    set(m, region(0, 0x10n, 4n));
    expect(m.findByGfn(0x11n)?.id).toBe(0);
    expect(m.findByGfnNumber(0x11)?.id).toBe(0);
    expect(set(m, region(0, 0x100n, 4n))?.baseGfn).toBe(0x100n);
    expect(m.findByGfnNumber(0x11)).toBeUndefined();
    expect(m.findByGfn(0x11n)).toBeUndefined();
    expect(m.findByGfn(0x101n)?.id).toBe(0);
    expect(m.findByGfnNumber(0x103)?.id).toBe(0);
    expect(m.findByGfnNumber(0x104)).toBeUndefined();
  });

  it('after a move the slot list is re-sorted by base gfn', () => {
    const m = new Memslots();
    set(m, region(0, 0n, 1n));
    set(m, region(1, 10n, 1n));
    set(m, region(2, 20n, 1n));
    set(m, region(0, 30n, 1n));
    expect(m.list().map((s) => s.id)).toEqual([1, 2, 0]);
    expect(m.findByGfn(30n)?.id).toBe(0);
    expect(m.findByGfn(0n)).toBeUndefined();
  });

  it('after a delete neither entry point finds the slot, cached or not', () => {
    const m = new Memslots();
    set(m, region(0, 0x10n, 4n));
    set(m, region(1, 0x20n, 4n));
    expect(m.findByGfnNumber(0x12)?.id).toBe(0);
    expect(set(m, region(0, 0x10n, 0n))).toBeUndefined();
    expect(m.findByGfnNumber(0x12)).toBeUndefined();
    expect(m.findByGfn(0x12n)).toBeUndefined();
    expect(m.get(0, 0)).toBeUndefined();
    expect(m.list().map((s) => s.id)).toEqual([1]);
    expect(m.findByGfn(0x21n)?.id).toBe(1);
  });

  it('a hit in one address space is not an answer for the other', () => {
    const m = new Memslots();
    set(m, region(0, 0x10n, 4n));
    expect(m.findByGfnNumber(0x10, 0)?.asId).toBe(0);
    expect(m.findByGfnNumber(0x10, 1)).toBeUndefined();
    expect(m.findByGfn(0x10n, 1)).toBeUndefined();
    set(m, region((1 << 16) | 0, 0x10n, 4n));
    expect(m.findByGfn(0x11n, 0)?.asId).toBe(0);
    expect(m.findByGfn(0x11n, 1)?.asId).toBe(1);
    expect(m.findByGfnNumber(0x11, 0)?.asId).toBe(0);
    expect(m.findByGfnNumber(0x11, 1)?.asId).toBe(1);
    expect(m.findByGfn(0x11n, 2)).toBeUndefined();
    expect(m.list(2)).toEqual([]);
    expect(m.get(2, 0)).toBeUndefined();
  });
});

describe('KVM_SET_USER_MEMORY_REGION checks, at their edges', () => {
  it.each([-1, 1.5, Number.NaN, 2 ** 32])('slot %d is not a u32: EINVAL', (slot) => {
    expect(errno(() => new Memslots().plan(region(slot, 0n, 1n)))).toBe('EINVAL');
  });

  it('slot ids below KVM_USER_MEM_SLOTS are user slots; the id is the low 16 bits, the address space the high', () => {
    const m = new Memslots();
    expect(errno(() => set(m, region(KVM_USER_MEM_SLOTS - 1, 0n, 1n)))).toBe('ok');
    expect(errno(() => m.plan(region(KVM_USER_MEM_SLOTS, 8n, 1n)))).toBe('EINVAL');
    const p = m.plan(region((1 << 16) | 7, 8n, 1n));
    expect([p.asId, p.id, p.change]).toEqual([1, 7, 'create']);
    expect(errno(() => m.plan(region((2 << 16) | 7, 8n, 1n)))).toBe('EINVAL');
    expect(errno(() => new Memslots({ addressSpaces: 1 }).plan(region((1 << 16) | 7, 8n, 1n)))).toBe('EINVAL');
    expect(errno(() => new Memslots({ maxUserSlots: 8 }).plan(region(8, 8n, 1n)))).toBe('EINVAL');
    expect(errno(() => new Memslots({ maxUserSlots: 8 }).plan(region(7, 8n, 1n)))).toBe('ok');
  });

  it('flags: LOG_DIRTY_PAGES and READONLY only (check_memory_region_flags)', () => {
    for (const f of [0, KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY, KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY]) {
      expect(errno(() => new Memslots().plan(region(0, 0n, 1n, f)))).toBe('ok');
    }
    for (const f of [4, 8, 0x80000000, -1, 1.5, Number.NaN]) expect(errno(() => new Memslots().plan(region(0, 0n, 1n, f)))).toBe('EINVAL');
  });

  it('memory_size and guest_phys_addr must be page aligned and not negative', () => {
    const m = new Memslots();
    const r = (gpa: bigint, size: bigint): UserMemoryRegion => ({ slot: 0, flags: 0, guestPhysAddr: gpa, memorySize: size });
    expect(errno(() => m.plan(r(0n, PAGE - 1n)))).toBe('EINVAL');
    expect(errno(() => m.plan(r(0n, PAGE + 1n)))).toBe('EINVAL');
    expect(errno(() => m.plan(r(0n, -PAGE)))).toBe('EINVAL');
    expect(errno(() => m.plan(r(1n, PAGE)))).toBe('EINVAL');
    expect(errno(() => m.plan(r(PAGE - 1n, PAGE)))).toBe('EINVAL');
    expect(errno(() => m.plan(r(-PAGE, PAGE)))).toBe('EINVAL');
    expect(errno(() => m.plan(r(PAGE, PAGE)))).toBe('ok');
  });

  it('a range reaching 2^64 wraps (EINVAL); the last page below it is accepted', () => {
    const m = new Memslots();
    const top = (1n << 64n) / PAGE;
    expect(errno(() => m.plan(region(0, top - 1n, 1n)))).toBe('EINVAL');
    expect(m.plan(region(0, top - 2n, 1n)).baseGfn).toBe(top - 2n);
  });

  it('npages up to KVM_MEM_MAX_NR_PAGES = 2^31 - 1', () => {
    expect(KVM_MEM_MAX_NR_PAGES).toBe(2n ** 31n - 1n);
    expect(new Memslots().plan(region(0, 0n, KVM_MEM_MAX_NR_PAGES)).npages).toBe(2 ** 31 - 1);
    expect(errno(() => new Memslots().plan(region(0, 0n, KVM_MEM_MAX_NR_PAGES + 1n)))).toBe('EINVAL');
  });

  it('a live slot: same size only, READONLY fixed, other flags may change; same everything is no change', () => {
    const m = new Memslots();
    set(m, region(0, 0x10n, 4n));
    expect(errno(() => m.plan(region(0, 0x10n, 5n)))).toBe('EINVAL');
    expect(errno(() => m.plan(region(0, 0x10n, 3n)))).toBe('EINVAL');
    expect(errno(() => m.plan(region(0, 0x10n, 4n, KVM_MEM_READONLY)))).toBe('EINVAL');
    expect(errno(() => m.plan(region(0, 0x20n, 4n, KVM_MEM_READONLY)))).toBe('EINVAL');
    expect(m.plan(region(0, 0x10n, 4n)).change).toBe('none');
    expect(m.plan(region(0, 0x10n, 4n, KVM_MEM_LOG_DIRTY_PAGES)).change).toBe('flags-only');
    expect(m.plan(region(0, 0x20n, 4n)).change).toBe('move');
    expect(m.plan(region(0, 0x20n, 0n)).change).toBe('delete');
    expect(errno(() => m.plan(region(1, 0x20n, 0n)))).toBe('EINVAL');
    const ro = new Memslots();
    set(ro, region(0, 0x10n, 4n, KVM_MEM_READONLY));
    expect(errno(() => ro.plan(region(0, 0x10n, 4n)))).toBe('EINVAL');
    expect(ro.plan(region(0, 0x10n, 4n, KVM_MEM_READONLY | KVM_MEM_LOG_DIRTY_PAGES)).change).toBe('flags-only');
  });

  it('commit: a flags-only change keeps the slot and its place; a move keeps its memory and takes the new flags', () => {
    const m = new Memslots();
    const s = set(m, region(0, 0x10n, 4n))!;
    const backing = s.backing;
    expect(set(m, region(0, 0x10n, 4n))).toBe(s);
    expect(set(m, region(0, 0x10n, 4n, KVM_MEM_LOG_DIRTY_PAGES))).toBe(s);
    expect(s.logsDirty).toBe(true);
    expect(m.findByGfn(0x10n)).toBe(s);
    expect(set(m, region(0, 0x40n, 4n, 0))).toBe(s);
    expect([s.baseGfn, s.baseGfnNumber, s.flags, s.logsDirty]).toEqual([0x40n, 0x40, 0, false]);
    expect(s.backing).toBe(backing);
  });

  it('a new or moved range may touch a neighbour but not overlap it by a page (EEXIST)', () => {
    const m = new Memslots();
    set(m, region(0, 10n, 10n)); // [10, 20)
    expect(errno(() => m.plan(region(1, 0n, 10n)))).toBe('ok'); // [0, 10)
    expect(errno(() => m.plan(region(1, 20n, 5n)))).toBe('ok'); // [20, 25)
    expect(errno(() => m.plan(region(1, 1n, 10n)))).toBe('EEXIST'); // [1, 11)
    expect(errno(() => m.plan(region(1, 19n, 5n)))).toBe('EEXIST'); // [19, 24)
    expect(errno(() => m.plan(region(1, 12n, 2n)))).toBe('EEXIST'); // inside
    expect(errno(() => m.plan(region(1, 5n, 30n)))).toBe('EEXIST'); // covers
    set(m, region(1, 30n, 5n));
    // A slot may move onto part of its own old range, not onto another slot.
    expect(errno(() => m.plan(region(0, 15n, 10n)))).toBe('ok');
    expect(errno(() => m.plan(region(0, 25n, 10n)))).toBe('EEXIST');
    // Another address space does not overlap.
    expect(errno(() => m.plan(region((1 << 16) | 2, 10n, 10n)))).toBe('ok');
  });

  it('with maxGpaBits the last gfn of a new or moved slot must be ≤ kvm_mmu_max_gfn()', () => {
    const m = new Memslots({ maxGpaBits: 20 }); // gfns 0 .. 0xff
    expect(m.maxGfn).toBe(0xffn);
    expect(errno(() => set(m, region(0, 0xfcn, 4n)))).toBe('ok'); // ends at 0xff
    expect(errno(() => set(m, region(1, 0xf0n, 0xcn)))).toBe('ok'); // [0xf0, 0xfc)
    expect(errno(() => m.plan(region(2, 0x100n, 1n)))).toBe('EINVAL'); // the page 0x100
    expect(errno(() => m.plan(region(0, 0xfdn, 4n)))).toBe('EINVAL');
    expect(errno(() => m.plan(region(0, 0x10n, 4n)))).toBe('ok');
    expect(new Memslots().maxGfn).toBeUndefined();
  });
});

describe('Memslot geometry', () => {
  it('base, size and membership in pages and bytes', () => {
    const s = new Memslot(1, 3, 0x10n, 4, KVM_MEM_READONLY);
    expect([s.baseGpa, s.sizeBytes, s.readonly, s.logsDirty]).toEqual([0x10000n, 0x4000n, true, false]);
    expect([0xfn, 0x10n, 0x13n, 0x14n].map((g) => s.containsGfn(g))).toEqual([false, true, true, false]);
  });
});

describe('each KVM_SET_USER_MEMORY_REGION error names the argument at fault (KvmError.argument)', () => {
  const arg = errnoArgumentOf;
  it('slot, flags, memorySize, guestPhysAddr', () => {
    const m = new Memslots({ maxGpaBits: 20 });
    set(m, region(0, 0x10n, 4n, KVM_MEM_LOG_DIRTY_PAGES));
    const r = (gpa: bigint, size: bigint, slot = 1, flags = 0): UserMemoryRegion => ({ slot, flags, guestPhysAddr: gpa, memorySize: size });
    expect(arg(() => m.plan(r(0n, PAGE, -1)))).toBe('EINVAL slot');
    expect(arg(() => m.plan(r(0n, PAGE, KVM_USER_MEM_SLOTS)))).toBe('EINVAL slot');
    expect(arg(() => m.plan(r(0n, PAGE, 2 << 16)))).toBe('EINVAL slot');
    expect(arg(() => m.plan(r(0n, 0n, 5)))).toBe('EINVAL slot');
    expect(arg(() => m.plan(r(0n, PAGE, 1, 4)))).toBe('EINVAL flags');
    expect(arg(() => m.plan(r(0x10n * PAGE, 4n * PAGE, 0, KVM_MEM_READONLY)))).toBe('EINVAL flags');
    expect(arg(() => m.plan(r(0n, 1n)))).toBe('EINVAL memorySize');
    expect(arg(() => m.plan(r(0x10n * PAGE, 5n * PAGE, 0)))).toBe('EINVAL memorySize');
    expect(arg(() => m.plan(r((1n << 64n) - PAGE, PAGE)))).toBe('EINVAL memorySize');
    expect(arg(() => m.plan(r(0n, (KVM_MEM_MAX_NR_PAGES + 1n) * PAGE)))).toBe('EINVAL memorySize');
    expect(arg(() => m.plan(r(1n, PAGE)))).toBe('EINVAL guestPhysAddr');
    expect(arg(() => m.plan(r(0x11n * PAGE, PAGE)))).toBe('EEXIST guestPhysAddr');
    expect(arg(() => m.plan(r(0x100n * PAGE, PAGE)))).toBe('EINVAL guestPhysAddr');
  });
});
