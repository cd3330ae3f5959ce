/**
 * The bad inputs of issue 22, one test each: every one fails with a typed error (KvmError with
 * KVM's errno, or SimulationError for virtual time) and leaves the hypervisor as it was.
 */
import { describe, expect, it } from 'vitest';
import { fc, test as fcTest } from '@fast-check/vitest';
import { KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, KVM_MEM_LOG_DIRTY_PAGES } from '../src/constants.js';
import { KvmError, SimulationError } from '../src/errors.js';
import { createHypervisor } from '../src/hypervisor.js';
import { DirtyBitmap } from '../src/vm/dirty-bitmap.js';
import type { Vm } from '../src/vm/vm.js';
import { errnoOf, slotState, x86Vm } from './helpers.js';

const MiB = 1n << 20n;

/** Everything a failed call could have touched. */
function state(vm: Vm): string {
  const slots = slotState(vm);
  const bitmaps = vm.memslots.list(0).map((s) => (s.dirtyBitmap ? Buffer.from(s.dirtyBitmap.bytes).toString('base64') : '-'));
  const ram = vm.memslots.list(0).map((s) => s.backing.residentPages);
  const regs = vm.vcpus.map((v) => [v.x.join(','), Object.values(v.x86.regs).join(','), v.x86.rip, JSON.stringify(v.stats)]);
  return JSON.stringify({ slots, bitmaps, ram, regs, stats: vm.stats, hasRun: vm.hasRun, now: vm.hv.sim.now, manual: vm.manualDirtyLogProtect },
    (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

function loggedVm(): Vm {
  const vm = x86Vm();
  vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0n, memorySize: 1n * MiB });
  vm.createVcpu(0);
  return vm;
}

describe('KVM_SET_USER_MEMORY_REGION with fields of the wrong type', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['memory_size as a number', { memorySize: 4096 }, 'memorySize'],
    ['memory_size NaN', { memorySize: Number.NaN }, 'memorySize'],
    ['memory_size 2^64', { memorySize: 1n << 64n }, 'memorySize'],
    ['guest_phys_addr as a number', { guestPhysAddr: 0 }, 'guestPhysAddr'],
    ['flags undefined', { flags: undefined }, 'flags'],
    ['flags 1.5', { flags: 1.5 }, 'flags'],
    ['slot "0"', { slot: '0' }, 'slot'],
  ];
  for (const [name, patch, argument] of cases) {
    it(`${name}: EINVAL naming ${argument}, nothing changes`, () => {
      const vm = loggedVm();
      const before = state(vm);
      const region = { slot: 1, flags: 0, guestPhysAddr: 16n * MiB, memorySize: MiB, ...patch };
      let err: unknown;
      try {
        vm.setUserMemoryRegion(region as never);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KvmError);
      expect((err as KvmError).errno).toBe('EINVAL');
      expect((err as KvmError).argument).toBe(argument);
      expect(state(vm)).toBe(before);
    });
  }

  it('a region that is not an object is EFAULT (copy_from_user of a bad pointer)', () => {
    const vm = loggedVm();
    expect(errnoOf(() => vm.setUserMemoryRegion(undefined as never))).toBe('EFAULT');
    expect(errnoOf(() => vm.setUserMemoryRegion(null as never))).toBe('EFAULT');
  });
});

describe('KVM_GET_DIRTY_LOG / KVM_CLEAR_DIRTY_LOG buffers', () => {
  it('GET into a plain Array is EFAULT before the harvest: the bits stay, nothing is counted', () => {
    const vm = loggedVm();
    vm.vcpus[0]!.write(0x3000n, new Uint8Array([1]));
    const before = state(vm);
    expect(errnoOf(() => vm.getDirtyLog(0, [] as unknown as Uint8Array))).toBe('EFAULT');
    expect(state(vm)).toBe(before);
    expect(vm.stats.pagesHarvested).toBe(0);
    // The page is still dirty, and counted once when harvested properly.
    expect(vm.getDirtyLog(0)[0]).toBe(1 << 3);
    expect(vm.stats.pagesHarvested).toBe(1);
  });

  it('CLEAR with a bitmap that is not bytes, or a bigint num_pages, fails and clears nothing', () => {
    const vm = x86Vm();
    vm.enableCap(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, [1]);
    vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0n, memorySize: MiB });
    vm.createVcpu(0).write(0n, new Uint8Array([1]));
    const before = state(vm);
    expect(errnoOf(() => vm.clearDirtyLog({ slot: 0, firstPage: 0, numPages: 64, bitmap: [255] as unknown as Uint8Array }))).toBe('EFAULT');
    expect(errnoOf(() => vm.clearDirtyLog({ slot: 0, firstPage: 0, numPages: 64n as unknown as number, bitmap: new Uint8Array(8) }))).toBe('EINVAL');
    expect(errnoOf(() => vm.clearDirtyLog({ slot: 0, firstPage: -64, numPages: 64, bitmap: new Uint8Array(8) }))).toBe('EINVAL');
    expect(errnoOf(() => vm.clearDirtyLog(undefined as never))).toBe('EFAULT');
    expect(state(vm)).toBe(before);
  });
});

describe('guest accesses from host code', () => {
  it('vcpu.write(2^64, …) is EINVAL and does not wrap onto GPA 0', () => {
    const vm = loggedVm();
    const vcpu = vm.vcpus[0]!;
    const before = state(vm);
    expect(errnoOf(() => vcpu.write(1n << 64n, new Uint8Array([0xaa])))).toBe('EINVAL');
    expect(errnoOf(() => vcpu.write(-1n, new Uint8Array([0xaa])))).toBe('EINVAL');
    expect(errnoOf(() => vcpu.write(0 as unknown as bigint, new Uint8Array([0xaa])))).toBe('EINVAL');
    expect(errnoOf(() => vcpu.write(0n, [1] as unknown as Uint8Array))).toBe('EFAULT');
    expect(errnoOf(() => vcpu.read(0n, 1.5))).toBe('EINVAL');
    expect(state(vm)).toBe(before);
    expect(vm.memory.read(0n, 1)[0]).toBe(0);
    expect(vm.hasRun).toBe(false);
  });

  it('the highest GPA a register holds is still an access (an MMIO exit, no throw)', () => {
    const vm = loggedVm();
    expect(() => vm.vcpus[0]!.write((1n << 64n) - 1n, new Uint8Array([1]))).not.toThrow();
  });
});

describe('VMM accesses to guest memory (vm.memory)', () => {
  it('a GPA that is not a bigint, bytes that are not bytes, or a fill value that is not a byte are typed errors; nothing changes', () => {
    const vm = loggedVm();
    const before = state(vm);
    expect(errnoOf(() => vm.memory.read(0 as unknown as bigint, 4))).toBe('EINVAL');
    expect(errnoOf(() => vm.memory.write(0n, [1, 2] as unknown as Uint8Array))).toBe('EFAULT');
    expect(errnoOf(() => vm.memory.readU64(8 as unknown as bigint))).toBe('EINVAL');
    expect(errnoOf(() => vm.memory.writeU64(8n, 1 as unknown as bigint))).toBe('EINVAL');
    expect(errnoOf(() => vm.memory.fill(0n, 4, 'x' as unknown as number))).toBe('EINVAL');
    expect(vm.memory.isMapped(0 as unknown as bigint)).toBe(false);
    expect(state(vm)).toBe(before);
  });

  it('createVm({ maxUserSlots }) outside 1..0x7fff is EINVAL', () => {
    const hv = createHypervisor({ arch: 'x86_64' });
    expect(errnoOf(() => hv.createVm({ maxUserSlots: 0 }))).toBe('EINVAL');
    expect(errnoOf(() => hv.createVm({ maxUserSlots: 1.5 }))).toBe('EINVAL');
    expect(errnoOf(() => hv.createVm(null as never))).toBe('EINVAL');
    expect(hv.vms).toHaveLength(0);
  });
});

describe('hypercalls with non-architectural registers', () => {
  it('hvc([0x80000000]) with a number register is EINVAL and the vCPU has not run (firmware registers stay writable)', () => {
    const hv = createHypervisor({ arch: 'arm64' });
    const vm = hv.createVm();
    const vcpu = vm.createVcpu(0);
    const before = state(vm);
    expect(errnoOf(() => vcpu.hvc([0x80000000 as unknown as bigint]))).toBe('EINVAL');
    expect(errnoOf(() => vcpu.smc([0x80000000n, 1n << 64n]))).toBe('EINVAL');
    expect(errnoOf(() => vcpu.hvc([0x80000000n], 0x10000))).toBe('EINVAL');
    expect(errnoOf(() => vcpu.hvc('x' as unknown as bigint[]))).toBe('EINVAL');
    expect(vm.hasRun).toBe(false);
    expect(state(vm)).toBe(before);
  });

  it('every value a 64-bit register holds, signed or unsigned, goes through hvc and vmcall without throwing', () => {
    fc.assert(fc.property(fc.bigInt({ min: -(1n << 63n), max: (1n << 64n) - 1n }), fc.nat(0xffff), (r, imm) => {
      const arm = createHypervisor({ arch: 'arm64' }).createVm().createVcpu(0);
      expect(arm.hvc([r, r, r, r], imm)).toHaveLength(4);
      const x86 = createHypervisor({ arch: 'x86_64' }).createVm().createVcpu(0);
      expect(typeof x86.vmcall(r, [r, r, r, r])).toBe('bigint');
    }), { numRuns: 200 });
  });

  it('VMCALL, MSRs, CPUID, MOV to CR and port I/O refuse non-register values before running', () => {
    const vm = x86Vm();
    const vcpu = vm.createVcpu(0);
    const before = state(vm);
    expect(errnoOf(() => vcpu.vmcall(1.5))).toBe('EINVAL');
    expect(errnoOf(() => vcpu.vmcall(1n, [1n << 64n]))).toBe('EINVAL');
    expect(errnoOf(() => vcpu.vmcall(1n, [], { cpl: 4 }))).toBe('EINVAL');
    expect(errnoOf(() => vcpu.wrmsr(Number.NaN, 0n))).toBe('EINVAL');
    expect(errnoOf(() => vcpu.rdmsr(2 ** 32))).toBe('EINVAL');
    expect(errnoOf(() => vcpu.cpuid(0.5))).toBe('EINVAL');
    expect(errnoOf(() => vcpu.movToCr(3 as 0, 0n))).toBe('EINVAL');
    expect(errnoOf(() => vcpu.io(0x10000, 1, 'in'))).toBe('EINVAL');
    expect(errnoOf(() => vcpu.vmx('vmfunc' as 'vmxon', 0n))).toBe('EINVAL');
    expect(state(vm)).toBe(before);
    expect(vm.hasRun).toBe(false);
  });
});

describe('virtual time', () => {
  it('schedule(undefined) and runUntil("abc") throw SimulationError and time stays a bigint', () => {
    const hv = createHypervisor({ arch: 'x86_64' });
    hv.sim.runFor(5n);
    const t = () => null;
    expect(() => hv.sim.schedule(undefined as unknown as bigint, t)).toThrow(SimulationError);
    expect(() => hv.sim.schedule(10n, undefined as never)).toThrow(SimulationError);
    expect(() => hv.sim.runUntil('abc' as unknown as bigint)).toThrow(SimulationError);
    expect(() => hv.sim.runFor(1 as unknown as bigint)).toThrow(SimulationError);
    expect(() => hv.sim.after(-1n, t)).toThrow(RangeError); // still a RangeError, as before
    expect(hv.sim.now).toBe(5n);
    expect(hv.sim.pending).toBe(0);
  });
});

describe('allocation failures', () => {
  it('a dirty bitmap that cannot be allocated is ENOMEM and no slot is committed', () => {
    const vm = x86Vm();
    const real = Object.getOwnPropertyDescriptor(globalThis, 'Uint8Array')!;
    const before = state(vm);
    // The engine's allocation failure, for the bitmap only (the test cannot exhaust the heap).
    class Failing extends Uint8Array {
      constructor(...args: unknown[]) {
        if (typeof args[0] === 'number' && args[0] >= 256) throw new RangeError('Array buffer allocation failed');
        super(...(args as []));
      }
    }
    Object.defineProperty(globalThis, 'Uint8Array', { ...real, value: Failing });
    let errno: string | undefined;
    try {
      errno = errnoOf(() => vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0n, memorySize: 64n * MiB }));
    } finally {
      Object.defineProperty(globalThis, 'Uint8Array', real);
    }
    expect(errno).toBe('ENOMEM');
    expect(state(vm)).toBe(before);
    expect(vm.memslots.get(0, 0)).toBeUndefined();
  });
});

describe('bulk bitmap operations are word-level', () => {
  it('INITIALLY_SET on an 8 TiB slot sets every page and nothing past the end', () => {
    const vm = x86Vm([], '5.7');
    vm.enableCap(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, [3]);
    const size = ((1n << 31n) - 1n) << 12n; // KVM_MEM_MAX_NR_PAGES pages, just under 8 TiB
    vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0n, memorySize: size });
    const bm = vm.memslots.get(0, 0)!.dirtyBitmap!;
    expect(bm.dirtyCount).toBe(2 ** 31 - 1);
    expect(bm.test(0)).toBe(true);
    expect(bm.test(2 ** 31 - 2)).toBe(true);
    expect(bm.test(2 ** 31 - 1)).toBe(false); // past the slot's last page
  });

  fcTest.prop([fc.nat(300), fc.nat(300), fc.nat(300), fc.array(fc.nat(299), { maxLength: 20 })])(
    'setRange sets exactly the pages of a naive bit-by-bit loop, with an exact count',
    (npages, first, count, pre) => {
      const a = new DirtyBitmap(npages);
      const b = new DirtyBitmap(npages);
      for (const p of pre) if (p < npages) { a.set(p); b.set(p); }
      a.setRange(first, count);
      for (let p = first; p < Math.min(first + count, npages); p++) b.set(p);
      expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
      expect(a.dirtyCount).toBe(b.dirtyCount);
    },
  );
});
