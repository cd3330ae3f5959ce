import { fc, test as fcTest } from '@fast-check/vitest';
import { readLe } from '../src/bigint.js';
import { createHypervisor } from '../src/hypervisor.js';
import { describe, expect, it } from 'vitest';
import { KvmError } from '../src/errors.js';
import { x86Vm } from './helpers.js';

const GiB = 1n << 30n;

describe('guest physical memory', () => {
  it('is sparse: a 1 TiB slot costs nothing until written, and reads of untouched memory are zeros', () => {
    const vm = x86Vm();
    vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 1024n * GiB });
    expect(vm.memory.residentPages).toBe(0);
    expect([...vm.memory.read(700n * GiB + 5n, 4)]).toEqual([0, 0, 0, 0]);
    expect(vm.memory.residentPages).toBe(0);
    vm.memory.write(900n * GiB, new Uint8Array([9]));
    expect(vm.memory.residentPages).toBe(1);
  });

  it('accesses cross page and slot boundaries', () => {
    const vm = x86Vm();
    vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 0x2000n });
    vm.setUserMemoryRegion({ slot: 1, flags: 0, guestPhysAddr: 0x2000n, memorySize: 0x2000n });
    const data = Uint8Array.from({ length: 0x1800 }, (_, i) => i & 0xff);
    vm.memory.write(0x1400n, data);
    expect(vm.memory.read(0x1400n, 0x1800)).toEqual(data);
    // 0x1400..0x2c00: page 1 of slot 0 and page 0 of slot 1.
    expect(vm.memslots.get(0, 0)!.backing.residentIndices()).toEqual([1]);
    expect(vm.memslots.get(0, 1)!.backing.residentIndices()).toEqual([0]);
  });

  it('a range that leaves every slot fails with EFAULT and writes nothing', () => {
    const vm = x86Vm();
    vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 0x1000n });
    expect(() => vm.memory.write(0xff0n, new Uint8Array(32).fill(7))).toThrow(KvmError);
    expect([...vm.memory.read(0xff0n, 16)]).toEqual(new Array(16).fill(0));
    try {
      vm.memory.read(0x5000n, 1);
    } catch (e) {
      expect((e as KvmError).errno).toBe('EFAULT');
      expect((e as KvmError).argument).toBe('gpa');
    }
  });

  it('u64 helpers are little-endian and 64-bit exact', () => {
    const vm = x86Vm();
    vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 0x1000n });
    vm.memory.writeU64(0xffcn - 4n, 0xfedcba9876543210n);
    expect(vm.memory.readU64(0xff8n)).toBe(0xfedcba9876543210n);
    expect(vm.memory.read(0xff8n, 1)[0]).toBe(0x10);
  });

  it('fill is a host memset (not dirty-tracked)', () => {
    const vm = x86Vm();
    vm.setUserMemoryRegion({ slot: 0, flags: 1, guestPhysAddr: 0n, memorySize: 0x3000n });
    vm.memory.fill(0n, 0x3000, 0xaa);
    expect(vm.memory.read(0x2fffn, 1)[0]).toBe(0xaa);
    expect([...vm.getDirtyLog(0)]).toEqual(new Array(8).fill(0));
  });

  it('kvm_write_guest marks the pages it touches dirty', () => {
    const vm = x86Vm();
    vm.setUserMemoryRegion({ slot: 0, flags: 1, guestPhysAddr: 0n, memorySize: 0x4000n });
    vm.kvmWriteGuest(0x1ff0n, new Uint8Array(64));
    expect(vm.getDirtyLog(0)[0]).toBe(0b0110);
  });
});

describe('8-byte accesses inside a page take a fast path that agrees with the general one', () => {
  const setup = () => {
    const vm = createHypervisor({ arch: 'x86_64' }).createVm();
    vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0x1000n, memorySize: 0x3000n });
    vm.setUserMemoryRegion({ slot: 1, flags: 0, guestPhysAddr: 0x10000n, memorySize: 0x2000n });
    return vm;
  };
  fcTest.prop([fc.bigInt({ min: 0n, max: 0x13000n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })], { numRuns: 300, seed: 7 })(
    'readU64 / writeU64 / isMapped equal read+readLe / write / the range check, at any GPA (page-crossing, unmapped, untouched)',
    (gpa, value) => {
      const vm = setup();
      const mem = vm.memory;
      const general = (): unknown => {
        try {
          return readLe(mem.read(gpa, 8), 0, 8);
        } catch (e) {
          return (e as KvmError).errno;
        }
      };
      const fast = (): unknown => {
        try {
          return mem.readU64(gpa);
        } catch (e) {
          return (e as KvmError).errno;
        }
      };
      expect(fast()).toEqual(general()); // untouched pages read as zeros
      // the walker's read: the value, or undefined where readU64 would raise EFAULT
      const ifMapped = (): unknown => mem.readU64IfMapped(gpa) ?? 'EFAULT';
      expect(ifMapped()).toEqual(general());
      let wrote: unknown;
      try {
        mem.writeU64(gpa, value);
        wrote = 'ok';
      } catch (e) {
        wrote = (e as KvmError).errno;
      }
      expect(wrote).toBe(general() === 'EFAULT' ? 'EFAULT' : 'ok');
      if (wrote === 'ok') expect(readLe(mem.read(gpa, 8), 0, 8)).toBe(value);
      expect(ifMapped()).toEqual(general());
      for (const len of [1, 8, 4096]) {
        let slow = true;
        try {
          mem.read(gpa, len);
        } catch {
          slow = false;
        }
        expect(mem.isMapped(gpa, len)).toBe(slow);
      }
    },
  );
});
