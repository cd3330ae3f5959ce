// KVM_SET_USER_MEMORY_REGION refusals (issue 22, mutation testing): each check of
// __kvm_set_memory_region() / check_memory_region_flags() (virt/kvm/kvm_main.c, 5.4; the
// kvm_mmu_max_gfn() bound from 5.19) names the argument at fault and, in its message, the value
// and the limit; the slots stay sorted by base gfn for the lookup whatever order they came in.
import { describe, expect, it } from 'vitest';
import { KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY } from '../src/constants.js';
import { KvmError } from '../src/errors.js';
import { Memslots } from '../src/vm/memslots.js';

const PAGE = 4096n;
const refusal = (f: () => unknown): string => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return e instanceof KvmError ? `${e.errno} ${e.argument}: ${e.message}` : `not a KvmError: ${String(e)}`;
  }
};

describe('memslot refusals', () => {
  it('name the argument, the value and the rule', () => {
    const slots = new Memslots({ maxGpaBits: 40 });
    slots.commit(slots.plan({ slot: 1, flags: 0, guestPhysAddr: 0x10_0000n, memorySize: 2n * PAGE }));
    const r = (slot: unknown, flags: unknown, guestPhysAddr: unknown, memorySize: unknown) =>
      refusal(() => slots.plan({ slot, flags, guestPhysAddr, memorySize } as never));
    const cases: [string, string, string][] = [
      [refusal(() => slots.plan(null as never)), 'EFAULT region', 'struct kvm_userspace_memory_region'],
      [r(-1, 0, 0n, PAGE), 'EINVAL slot', 'is not a u32'],
      [r(2 ** 32, 0, 0n, PAGE), 'EINVAL slot', 'is not a u32'],
      [r(0xffff_ffff, 0, 0n, PAGE), 'EINVAL slot', 'slot id 65535 ≥ KVM_USER_MEM_SLOTS (509)'], // a u32: id 0xffff
      [r((2 << 16) | 1, 0, 0n, PAGE), 'EINVAL slot', 'address space 2 ≥ KVM_ADDRESS_SPACE_NUM (2)'],
      [r(2, -1, 0n, PAGE), 'EINVAL flags', 'is not a u32'],
      [r(2, 0xffff_ffff, 0n, PAGE), 'EINVAL flags', 'unknown memslot flags 0xffffffff'], // a u32, unknown bits
      [r(2, 0, -1n, PAGE), 'EINVAL guestPhysAddr', 'guest_phys_addr'],
      [r(2, 0, 0n, -1n), 'EINVAL memorySize', 'memory_size'],
      [r(509, 0, 0n, PAGE), 'EINVAL slot', 'slot id 509 ≥ KVM_USER_MEM_SLOTS (509)'],
      [r(2, 0, 0n, 100n), 'EINVAL memorySize', 'memory_size 0x64 is not page aligned'],
      [r(2, 0, 0x64n, PAGE), 'EINVAL guestPhysAddr', 'guest_phys_addr 0x64 is not page aligned'],
      [r(2, 0, (1n << 64n) - PAGE, PAGE), 'EINVAL memorySize', 'guest_phys_addr + memory_size wraps around'],
      [r(2, 0, 0n, (1n << 31n) * PAGE), 'EINVAL memorySize', '2147483648 pages > KVM_MEM_MAX_NR_PAGES'],
      [r(1, 0, 0x10_0000n, 4n * PAGE), 'EINVAL memorySize', 'slot 1 cannot be resized (2 → 4 pages)'],
      [r(1, KVM_MEM_READONLY, 0x10_0000n, 2n * PAGE), 'EINVAL flags', 'KVM_MEM_READONLY cannot change on live slot 1'],
      [r(7, 0, 0n, 0n), 'EINVAL slot', 'slot 7 does not exist, nothing to delete'],
      [r(2, 0, 0x10_1000n, PAGE), 'EEXIST guestPhysAddr', 'gfn range overlaps slot 1'],
      [r(2, 0, 1n << 40n, PAGE), 'EINVAL guestPhysAddr', 'gfn range ends beyond kvm_mmu_max_gfn() 0xfffffff'],
    ];
    for (const [got, errno, text] of cases) {
      expect(got.startsWith(`${errno}: `), got).toBe(true);
      expect(got).toContain(text);
    }
    // The last page below 2^40 is fine; logging can change on a live slot.
    expect(r(2, 0, (1n << 40n) - PAGE, PAGE)).toBe('ok');
    expect(r(1, KVM_MEM_LOG_DIRTY_PAGES, 0x10_0000n, 2n * PAGE)).toBe('ok');
  });

  it('slots created in any order are listed and found by base gfn', () => {
    const slots = new Memslots();
    const bases = [0x90n, 0x10n, 0x50n, 0x30n, 0x70n];
    bases.forEach((gfn, i) => slots.commit(slots.plan({ slot: i, flags: 0, guestPhysAddr: gfn * PAGE, memorySize: 4n * PAGE })));
    expect(slots.list().map((s) => s.baseGfn)).toEqual([0x10n, 0x30n, 0x50n, 0x70n, 0x90n]);
    // Lookups that jump around (no two in a row in the same slot), at each slot's first and last page.
    for (const gfn of [0x93n, 0x10n, 0x73n, 0x30n, 0x53n, 0x90n, 0x13n, 0x70n, 0x33n, 0x50n]) {
      const s = slots.findByGfn(gfn);
      expect(s?.id, `gfn ${gfn.toString(16)}`).toBe(bases.indexOf(gfn & ~0xfn));
      expect(slots.findByGfnNumber(Number(gfn))?.id).toBe(s?.id);
    }
    expect(slots.findByGfn(0x14n)).toBeUndefined();
    expect(slots.findByGfn(0x2fn)).toBeUndefined();
  });
});
