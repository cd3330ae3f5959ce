import { describe, expect, it } from 'vitest';
import { fc, test as fcTest } from '@fast-check/vitest';
import {
  KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
  KVM_MEM_LOG_DIRTY_PAGES,
} from '../src/constants.js';
import { KvmError } from '../src/errors.js';
import { bitmapPages, DirtyBitmap } from '../src/vm/dirty-bitmap.js';
import type { WriteProtectMmu } from '../src/vm/mmu.js';
import type { Vm } from '../src/vm/vm.js';
import { errnoOf, x86Vm } from './helpers.js';

const BASE = 0xc000_0000n;
function loggingVm(npages: number, manual?: number): Vm {
  const vm = x86Vm([], manual !== undefined && (manual & 2) !== 0 ? '5.7' : undefined); // INITIALLY_SET: 5.7+
  if (manual !== undefined) vm.enableCap(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, [manual]);
  vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: BASE, memorySize: BigInt(npages) * 4096n });
  return vm;
}

describe('bitmap layout (spec nvmx-pml §6)', () => {
  it('case 18: 3-page slot, mark gfn base+2 → 8 bytes, byte 0 = 0x04', () => {
    const vm = loggingVm(3);
    vm.markPageDirty((BASE >> 12n) + 2n);
    const log = vm.getDirtyLog(0);
    expect(log.length).toBe(8);
    expect([...log]).toEqual([0x04, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('is ALIGN(npages, 64) / 8 bytes, little-endian bit order', () => {
    expect(DirtyBitmap.byteLength(1)).toBe(8);
    expect(DirtyBitmap.byteLength(64)).toBe(8);
    expect(DirtyBitmap.byteLength(65)).toBe(16);
    const bm = new DirtyBitmap(130);
    bm.set(9);
    bm.set(64);
    bm.set(129);
    expect(bm.bytes[1]).toBe(0x02);
    expect(bm.bytes[8]).toBe(0x01);
    expect(bm.bytes[16]).toBe(0x02);
    expect(bitmapPages(bm.bytes)).toEqual([9, 64, 129]);
  });
});

describe('KVM_GET_DIRTY_LOG', () => {
  it('reports guest-written pages once, then re-protects them (write protection faults again)', () => {
    const vm = loggingVm(128);
    const vcpu = vm.createVcpu(0);
    const mmu = vm.mmu as WriteProtectMmu;
    vcpu.write(BASE + 5n * 4096n, new Uint8Array([1]));
    vcpu.write(BASE + 5n * 4096n + 8n, new Uint8Array([2]));
    expect(mmu.stats.writeProtectFaults).toBe(1);
    expect(bitmapPages(vm.getDirtyLog(0))).toEqual([5]);
    expect(bitmapPages(vm.getDirtyLog(0))).toEqual([]);
    vcpu.write(BASE + 5n * 4096n, new Uint8Array([3]));
    expect(mmu.stats.writeProtectFaults).toBe(2);
    expect(bitmapPages(vm.getDirtyLog(0))).toEqual([5]);
  });

  it('a guest write spanning two pages dirties both', () => {
    const vm = loggingVm(4);
    vm.createVcpu(0).write(BASE + 4096n - 2n, new Uint8Array(4));
    expect(bitmapPages(vm.getDirtyLog(0))).toEqual([0, 1]);
  });

  it('case 31: with manual protect, GET twice with no writes returns the same bits', () => {
    const vm = loggingVm(64, 1);
    vm.createVcpu(0).write(BASE + 3n * 4096n, new Uint8Array([1]));
    const a = vm.getDirtyLog(0);
    expect(bitmapPages(a)).toEqual([3]);
    expect(vm.getDirtyLog(0)).toEqual(a);
  });

  it('KVM_DIRTY_LOG_INITIALLY_SET starts with every page dirty', () => {
    const vm = loggingVm(70, 3);
    expect(bitmapPages(vm.getDirtyLog(0))).toHaveLength(70);
  });

  it('errors: ENOENT without logging or slot, EINVAL for bad slot ids', () => {
    const vm = loggingVm(8);
    vm.setUserMemoryRegion({ slot: 1, flags: 0, guestPhysAddr: 0n, memorySize: 4096n });
    expect(errnoOf(() => vm.getDirtyLog(1))).toBe('ENOENT');
    expect(errnoOf(() => vm.getDirtyLog(2))).toBe('ENOENT');
    expect(errnoOf(() => vm.getDirtyLog(509))).toBe('EINVAL');
    expect(errnoOf(() => vm.getDirtyLog(2 << 16))).toBe('EINVAL');
  });
});

describe('KVM_CLEAR_DIRTY_LOG (kvm_clear_dirty_log_protect)', () => {
  const all = (n: number) => new Uint8Array(DirtyBitmap.byteLength(n)).fill(0xff);

  it('case 32: first_page = 1 → EINVAL; 128-page slot with num_pages = 65 → EINVAL; reaching the slot end → OK', () => {
    const vm = loggingVm(128, 1);
    expect(errnoOf(() => vm.clearDirtyLog({ slot: 0, firstPage: 1, numPages: 64, bitmap: all(64) }))).toBe('EINVAL');
    expect(errnoOf(() => vm.clearDirtyLog({ slot: 0, firstPage: 0, numPages: 65, bitmap: all(65) }))).toBe('EINVAL');
    expect(errnoOf(() => vm.clearDirtyLog({ slot: 0, firstPage: 64, numPages: 64, bitmap: all(64) }))).toBeUndefined();
    const odd = loggingVm(100, 1);
    expect(errnoOf(() => odd.clearDirtyLog({ slot: 0, firstPage: 64, numPages: 36, bitmap: all(36) }))).toBeUndefined();
  });

  it('more EINVAL rules: first_page past the end, num_pages past the end; EFAULT for a short buffer; ENOENT', () => {
    const vm = loggingVm(128, 1);
    expect(errnoOf(() => vm.clearDirtyLog({ slot: 0, firstPage: 192, numPages: 0, bitmap: all(0) }))).toBe('EINVAL');
    expect(errnoOf(() => vm.clearDirtyLog({ slot: 0, firstPage: 64, numPages: 128, bitmap: all(128) }))).toBe('EINVAL');
    expect(errnoOf(() => vm.clearDirtyLog({ slot: 0, firstPage: 0, numPages: 128, bitmap: new Uint8Array(8) }))).toBe('EFAULT');
    expect(errnoOf(() => vm.clearDirtyLog({ slot: 3, firstPage: 0, numPages: 64, bitmap: all(64) }))).toBe('ENOENT');
  });

  it('clears only the requested bits, and those pages fault again on the next write', () => {
    const vm = loggingVm(128, 1);
    const vcpu = vm.createVcpu(0);
    for (const p of [1n, 2n, 70n]) vcpu.write(BASE + p * 4096n, new Uint8Array([1]));
    const mask = new Uint8Array(16);
    mask[0] = 0b0100; // page 2
    mask[8] = 0b1000000; // page 70
    vm.clearDirtyLog({ slot: 0, firstPage: 0, numPages: 128, bitmap: mask });
    expect(bitmapPages(vm.getDirtyLog(0))).toEqual([1]);
    const faults = (vm.mmu as WriteProtectMmu).stats.writeProtectFaults;
    vcpu.write(BASE + 2n * 4096n, new Uint8Array([1]));
    vcpu.write(BASE + 1n * 4096n, new Uint8Array([1]));
    expect((vm.mmu as WriteProtectMmu).stats.writeProtectFaults).toBe(faults + 1);
  });
});

describe('KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2', () => {
  it('5.4 answers 1 and accepts args 0 and 1 only (INITIALLY_SET is 5.7)', () => {
    const vm = x86Vm([], '5.4');
    expect(vm.checkExtension(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)).toBe(1);
    for (const ok of [0, 1]) expect(errnoOf(() => vm.enableCap(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, [ok]))).toBeUndefined();
    for (const bad of [2, 3, 4]) expect(errnoOf(() => vm.enableCap(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, [bad]))).toBe('EINVAL');
    expect(vm.manualDirtyLogProtect).toBe(1);
  });

  it('5.7 answers 3 (ENABLE | INITIALLY_SET) and accepts args 0, 1 and 3 only', () => {
    const vm = x86Vm([], '5.7');
    expect(vm.checkExtension(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)).toBe(3);
    for (const ok of [0, 1, 3]) expect(errnoOf(() => vm.enableCap(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, [ok]))).toBeUndefined();
    for (const bad of [2, 4, 7]) expect(errnoOf(() => vm.enableCap(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, [bad]))).toBe('EINVAL');
    expect(errnoOf(() => vm.enableCap(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, [1], 1))).toBe('EINVAL');
    expect(vm.manualDirtyLogProtect).toBe(3);
  });
});

/** Random sequences of guest writes, GET, CLEAR, manual-protect changes and logging off/on. */
const op = fc.oneof(
  fc.record({ k: fc.constant('write' as const), page: fc.nat(199), len: fc.integer({ min: 1, max: 9000 }) }),
  fc.record({ k: fc.constant('get' as const) }),
  fc.record({ k: fc.constant('clear' as const), word: fc.nat(3), words: fc.integer({ min: 1, max: 4 }), seed: fc.integer() }),
  fc.record({ k: fc.constant('manual' as const), mode: fc.constantFrom(0, 1, 3) }),
  fc.record({ k: fc.constant('relog' as const) }),
);

describe('dirty-log invariant', () => {
  fcTest.prop([fc.constantFrom(0, 1, 3), fc.array(op, { minLength: 1, maxLength: 60 })], {
    numRuns: process.env.KVMLAB_SOAK ? 5000 : 150,
  })('every page written since it was last harvested is reported, and no other page', (mode, ops) => {
    const NPAGES = 200;
    const vm = x86Vm([], '5.7');
    vm.enableCap(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, [mode]);
    const region = (flags: number) => ({ slot: 0, flags, guestPhysAddr: BASE, memorySize: BigInt(NPAGES) * 4096n });
    vm.setUserMemoryRegion(region(KVM_MEM_LOG_DIRTY_PAGES));
    const vcpu = vm.createVcpu(0);
    // Reference: the pages whose bit KVM must hold (written, or initially set, and not yet harvested).
    let pending = new Set<number>(mode === 3 ? Array.from({ length: NPAGES }, (_, i) => i) : []);
    for (const o of ops) {
      if (o.k === 'write') {
        const len = Math.min(o.len, (NPAGES - o.page) * 4096);
        vcpu.write(BASE + BigInt(o.page) * 4096n, new Uint8Array(len).fill(1));
        for (let p = o.page; p <= o.page + Math.floor((len - 1) / 4096); p++) pending.add(p);
      } else if (o.k === 'get') {
        const got = new Set(bitmapPages(vm.getDirtyLog(0)));
        expect(got).toEqual(pending);
        if (vm.manualDirtyLogProtect === 0) pending = new Set();
      } else if (o.k === 'clear') {
        const first = o.word * 64;
        const num = Math.min(o.words * 64, NPAGES - first);
        const bits = new Uint8Array(DirtyBitmap.byteLength(num));
        let x = o.seed;
        for (let i = 0; i < bits.length; i++) bits[i] = (x = (Math.imul(x, 1103515245) + 12345) | 0) & 0xff;
        vm.clearDirtyLog({ slot: 0, firstPage: first, numPages: num, bitmap: bits });
        for (const p of bitmapPages(bits)) if (p < num) pending.delete(first + p);
      } else if (o.k === 'manual') {
        vm.enableCap(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, [o.mode]);
      } else {
        vm.setUserMemoryRegion(region(0));
        vm.setUserMemoryRegion(region(KVM_MEM_LOG_DIRTY_PAGES));
        const initiallySet = vm.manualDirtyLogProtect === 3;
        pending = new Set(initiallySet ? Array.from({ length: NPAGES }, (_, i) => i) : []);
      }
      const bm = vm.memslots.get(0, 0)!.dirtyBitmap!;
      expect(bm.bytes.length).toBe(DirtyBitmap.byteLength(NPAGES));
      expect(bm.dirtyCount).toBe(pending.size);
    }
  });
});

describe('guest writes at the top of the address space', () => {
  it('a slot just below 2^64 is tracked exactly (bigint path; doubles would round the gfn)', () => {
    const vm = x86Vm();
    // Ending exactly at 2^64 is EINVAL (the u64 sum wraps), so the slot ends one page below.
    expect(() => vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: (1n << 64n) - 4096n, memorySize: 4096n })).toThrow(KvmError);
    const top = (1n << 64n) - 3n * 4096n;
    vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: top, memorySize: 2n * 4096n });
    vm.createVcpu(0).write(top + 4096n + 5n, new Uint8Array([0xee]));
    expect(bitmapPages(vm.getDirtyLog(0))).toEqual([1]);
    expect(vm.memory.read(top + 4096n + 5n, 1)[0]).toBe(0xee);
  });
});

describe('KVM_GET_DIRTY_LOG into the caller’s buffer (struct kvm_dirty_log.dirty_bitmap)', () => {
  it('fills and returns the given buffer; a bigger buffer keeps its tail', () => {
    const vm = loggingVm(100);
    vm.createVcpu(0).write(BASE + 70n * 4096n, new Uint8Array([1]));
    const buf = new Uint8Array(20).fill(0xee);
    const out = vm.getDirtyLog(0, buf);
    expect(out).toBe(buf);
    expect(bitmapPages(out.subarray(0, 16))).toEqual([70]);
    expect([...buf.subarray(16)]).toEqual([0xee, 0xee, 0xee, 0xee]);
    vm.getDirtyLog(0, buf);
    expect(bitmapPages(buf.subarray(0, 16))).toEqual([]);
  });

  it('a buffer too small is EFAULT after the harvest, as kvm_get_dirty_log_protect() clears before copy_to_user(): the bits are lost', () => {
    const vm = loggingVm(100);
    vm.createVcpu(0).write(BASE, new Uint8Array([1]));
    const buf = new Uint8Array(8).fill(0xee);
    expect(errnoOf(() => vm.getDirtyLog(0, buf))).toBe('EFAULT');
    expect([...buf]).toEqual(Array(8).fill(0xee)); // nothing copied
    expect(bitmapPages(vm.getDirtyLog(0))).toEqual([]); // gone
    expect(vm.stats.pagesHarvested).toBe(1);
    vm.vcpus[0]!.write(BASE, new Uint8Array([2])); // re-protected: the next write is logged again
    expect(bitmapPages(vm.getDirtyLog(0))).toEqual([0]);
  });

  it('with manual protect a buffer too small is EFAULT and loses nothing (nothing is cleared)', () => {
    const vm = loggingVm(100, 1);
    vm.createVcpu(0).write(BASE + 3n * 4096n, new Uint8Array([1]));
    expect(errnoOf(() => vm.getDirtyLog(0, new Uint8Array(8)))).toBe('EFAULT');
    expect(vm.stats.getDirtyLogCalls).toBe(0);
    expect(bitmapPages(vm.getDirtyLog(0))).toEqual([3]);
  });

  it('works at an unaligned byte offset, and with manual protect', () => {
    const vm = loggingVm(64, 1);
    vm.createVcpu(0).write(BASE + 9n * 4096n, new Uint8Array([1]));
    const backing = new Uint8Array(11);
    const view = backing.subarray(3);
    expect(bitmapPages(vm.getDirtyLog(0, view))).toEqual([9]);
    expect(bitmapPages(vm.getDirtyLog(0, view))).toEqual([9]);
  });
});
