import { describe, expect, it } from 'vitest';
import { KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY, KVM_USER_MEM_SLOTS } from '../src/constants.js';
import { KvmError } from '../src/errors.js';
import type { Memslot, MemslotChange, UserMemoryRegion } from '../src/vm/memslots.js';
import { WriteProtectMmu } from '../src/vm/mmu.js';
import { createHypervisor } from '../src/hypervisor.js';
import { definePlugin } from '../src/plugin/define-plugin.js';
import { slotState, x86Vm } from './helpers.js';

const MiB = 1n << 20n;
const region = (slot: number, gpa: bigint, size: bigint, flags = 0): UserMemoryRegion => ({ slot, flags, guestPhysAddr: gpa, memorySize: size });

function setup() {
  const vm = x86Vm();
  vm.setUserMemoryRegion(region(0, 0n, 16n * MiB));
  vm.setUserMemoryRegion(region(1, 64n * MiB, 16n * MiB, KVM_MEM_LOG_DIRTY_PAGES));
  return vm;
}

/** Every failing call of __kvm_set_memory_region, with the errno KVM returns. */
const failures: [string, UserMemoryRegion, 'EINVAL' | 'EEXIST'][] = [
  ['unaligned guest_phys_addr', region(2, 0x1000_0800n, MiB), 'EINVAL'],
  ['unaligned memory_size', region(2, 256n * MiB, MiB + 1n), 'EINVAL'],
  ['slot id = KVM_USER_MEM_SLOTS (509)', region(509, 256n * MiB, MiB), 'EINVAL'],
  ['slot id 0xffff', region(0xffff, 256n * MiB, MiB), 'EINVAL'],
  ['address space 2 on x86 (only 0 and 1 exist)', region((2 << 16) | 3, 256n * MiB, MiB), 'EINVAL'],
  ['unknown flag bit 2', region(2, 256n * MiB, MiB, 1 << 2), 'EINVAL'],
  ['overlap with slot 0 (start inside)', region(2, 8n * MiB, 16n * MiB), 'EEXIST'],
  ['overlap with slot 1 (covers it)', region(2, 60n * MiB, 32n * MiB), 'EEXIST'],
  ['resize of slot 0', region(0, 0n, 32n * MiB), 'EINVAL'],
  ['READONLY toggled on live slot 0', region(0, 0n, 16n * MiB, KVM_MEM_READONLY), 'EINVAL'],
  ['delete of a slot that does not exist', region(7, 0n, 0n), 'EINVAL'],
  ['move of slot 0 onto slot 1', region(0, 64n * MiB, 16n * MiB), 'EEXIST'],
  ['range that wraps 2^64', region(2, (1n << 64n) - MiB, 2n * MiB), 'EINVAL'],
];

describe('KVM_SET_USER_MEMORY_REGION errors (virt/kvm/kvm_main.c)', () => {
  for (const [name, r, errno] of failures) {
    it(`${name} → ${errno}, and the VM is unchanged`, () => {
      const vm = setup();
      const before = slotState(vm);
      let err: unknown;
      try {
        vm.setUserMemoryRegion(r);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KvmError);
      expect((err as KvmError).errno).toBe(errno);
      expect((err as KvmError).code).toBe(errno === 'EINVAL' ? 22 : 17);
      expect(slotState(vm)).toEqual(before);
    });
  }
});

describe('memslot changes', () => {
  it('the MMU hears of every create, flag change, move and delete (slotChanged)', () => {
    const seen: string[] = [];
    const plugin = definePlugin({
      name: 'mmu-spy',
      setup(ctx) {
        ctx.setMmu((vm) => Object.assign(new WriteProtectMmu(vm), {
          slotChanged: (slot: Memslot, oldFlags: number, change: MemslotChange) => seen.push(`${change}:${slot.id}:${oldFlags}`),
        }));
      },
    });
    const vm = createHypervisor({ arch: 'x86_64', plugins: [plugin] }).createVm();
    vm.setUserMemoryRegion(region(3, 0n, MiB));
    vm.setUserMemoryRegion(region(3, 0n, MiB, KVM_MEM_LOG_DIRTY_PAGES));
    vm.setUserMemoryRegion(region(3, 4n * MiB, MiB, KVM_MEM_LOG_DIRTY_PAGES));
    vm.setUserMemoryRegion(region(3, 4n * MiB, 0n));
    expect(seen).toEqual(['create:3:0', 'flags-only:3:0', 'move:3:1', 'delete:3:1']);
  });

  it('slot 508 is the last user slot', () => {
    const vm = setup();
    vm.setUserMemoryRegion(region(KVM_USER_MEM_SLOTS - 1, 1n << 32n, MiB));
    expect(vm.memslots.get(0, 508)?.npages).toBe(256);
  });

  it('the SMM address space (as_id 1) is separate on x86', () => {
    const vm = setup();
    vm.setUserMemoryRegion(region((1 << 16) | 0, 0n, MiB));
    expect(vm.memslots.list(1)).toHaveLength(1);
    expect(vm.memslots.list(0)).toHaveLength(2);
  });

  it('size 0 deletes; the range can be reused', () => {
    const vm = setup();
    vm.setUserMemoryRegion(region(0, 0n, 0n));
    expect(vm.memslots.get(0, 0)).toBeUndefined();
    vm.setUserMemoryRegion(region(2, 0n, 8n * MiB));
    expect(vm.memslots.findByGfn(10n)?.id).toBe(2);
  });

  it('a move keeps the contents and changes the GPA', () => {
    const vm = setup();
    vm.memory.write(0x1000n, new Uint8Array([1, 2, 3]));
    vm.setUserMemoryRegion(region(0, 128n * MiB, 16n * MiB));
    expect([...vm.memory.read(128n * MiB + 0x1000n, 3)]).toEqual([1, 2, 3]);
    expect(vm.memory.isMapped(0x1000n)).toBe(false);
  });

  it('turning KVM_MEM_LOG_DIRTY_PAGES on allocates the bitmap; off drops it', () => {
    const vm = setup();
    expect(vm.memslots.get(0, 0)?.dirtyBitmap).toBeUndefined();
    vm.setUserMemoryRegion(region(0, 0n, 16n * MiB, KVM_MEM_LOG_DIRTY_PAGES));
    expect(vm.memslots.get(0, 0)?.dirtyBitmap?.bytes.length).toBe(4096 / 8);
    vm.setUserMemoryRegion(region(0, 0n, 16n * MiB, 0));
    expect(vm.memslots.get(0, 0)?.dirtyBitmap).toBeUndefined();
  });

  it('setting the same region again changes nothing', () => {
    const vm = setup();
    const before = slotState(vm);
    vm.setUserMemoryRegion(region(1, 64n * MiB, 16n * MiB, KVM_MEM_LOG_DIRTY_PAGES));
    expect(slotState(vm)).toEqual(before);
  });

  it('adjacent slots do not overlap', () => {
    const vm = setup();
    vm.setUserMemoryRegion(region(2, 16n * MiB, 48n * MiB));
    expect(vm.memslots.list()).toHaveLength(3);
  });
});
