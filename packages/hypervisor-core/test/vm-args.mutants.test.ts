// KVM_CREATE_VM's options and KVM_ENABLE_CAP's struct at their edges (issue 22, mutation
// testing). struct kvm_enable_cap is { __u32 cap; __u32 flags; __u64 args[4]; } (include/uapi/
// linux/kvm.h): kvm_vm_ioctl_enable_cap_generic() / kvm_vm_ioctl_check_extension_generic() of
// virt/kvm/kvm_main.c (5.4) refuse a capability the kernel does not have, or cannot enable,
// with EINVAL. Every refusal names the argument and leaves the VM as it was.
import { describe, expect, it } from 'vitest';
import { KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, KVM_MEM_LOG_DIRTY_PAGES } from '../src/constants.js';
import { KvmError } from '../src/errors.js';
import { createHypervisor } from '../src/hypervisor.js';
import { definePlugin } from '../src/plugin/define-plugin.js';
import type { Vm } from '../src/vm/vm.js';
import { WriteProtectMmu } from '../src/vm/mmu.js';
import { errnoArgumentOf, slotState, x86Vm } from './helpers.js';

const message = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return e instanceof KvmError ? e.message : `not a KvmError: ${String(e)}`;
  }
  return 'returned';
};

/** Capability numbers no kernel uses, answered by a test plugin. */
const CAP_OFF = 0x7ff0_0001; // KVM_CHECK_EXTENSION answers 0
const CAP_NO_ENABLE = 0x7ff0_0002; // answers 1, has no KVM_ENABLE_CAP
const CAP_RECORD = 0x7ff0_0003; // answers 1, records what KVM_ENABLE_CAP passed

function vmWithCaps(): { vm: Vm; seen: { args: readonly bigint[]; flags: number }[] } {
  const seen: { args: readonly bigint[]; flags: number }[] = [];
  const plugin = definePlugin({
    name: 'caps',
    setup: (ctx) => {
      ctx.capability(CAP_OFF, { check: () => 0, enable: () => seen.push({ args: [], flags: -1 }) });
      ctx.capability(CAP_NO_ENABLE, { check: () => 1 });
      ctx.capability(CAP_RECORD, { check: (vm) => (vm === undefined ? 0 : 1), enable: (_vm, args, flags) => seen.push({ args, flags }) });
    },
  });
  return { vm: createHypervisor({ arch: 'x86_64', plugins: [plugin] }).createVm(), seen };
}

describe('KVM_CREATE_VM options', () => {
  it('options that are not an object are EINVAL naming opts and the value', () => {
    const hv = createHypervisor({ arch: 'x86_64' });
    for (const o of [null, 5, 'big']) {
      expect(errnoArgumentOf(() => hv.createVm(o as never))).toBe('EINVAL opts');
      expect(message(() => hv.createVm(o as never))).toContain(String(o));
    }
    expect(hv.vms).toHaveLength(0);
  });

  it('maxUserSlots: an integer 1..0x7fff (15-bit slot ids); the slot count then bounds the slot ids', () => {
    const hv = createHypervisor({ arch: 'x86_64' });
    for (const n of [0, 0x8000, 1.5, -1]) expect(errnoArgumentOf(() => hv.createVm({ maxUserSlots: n })), `maxUserSlots ${n}`).toBe('EINVAL maxUserSlots');
    expect(hv.vms).toHaveLength(0);
    expect(hv.createVm({ maxUserSlots: 0x7fff }).memslots.maxUserSlots).toBe(0x7fff);
    const one = hv.createVm({ maxUserSlots: 1 });
    expect(one.memslots.maxUserSlots).toBe(1);
    one.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 4096n });
    expect(errnoArgumentOf(() => one.setUserMemoryRegion({ slot: 1, flags: 0, guestPhysAddr: 0x1000n, memorySize: 4096n })).startsWith('EINVAL')).toBe(true);
    // Without the override the kernel era decides (509 in 5.x).
    expect(createHypervisor({ arch: 'x86_64', kernel: '5.4' }).createVm().memslots.maxUserSlots).toBe(509);
  });

  it('x86 VMs have the SMM address space, arm64 VMs only one', () => {
    const x86 = createHypervisor({ arch: 'x86_64' }).createVm();
    const arm = createHypervisor({ arch: 'arm64' }).createVm();
    expect(x86.memslots.addressSpaces).toBe(2);
    expect(arm.memslots.addressSpaces).toBe(1);
    expect(errnoArgumentOf(() => x86.getDirtyLog((1 << 16) | 1))).toBe('ENOENT slot');
    expect(errnoArgumentOf(() => arm.getDirtyLog((1 << 16) | 1))).toBe('EINVAL slot');
    expect(x86.arch).toBe('x86_64');
    expect(arm.arch).toBe('arm64');
  });
});

describe('KVM_ENABLE_CAP', () => {
  it('cap and flags are u32s, args an array of at most 4 64-bit values: EINVAL/EFAULT naming each', () => {
    const { vm, seen } = vmWithCaps();
    expect(errnoArgumentOf(() => vm.enableCap(-1))).toBe('EINVAL cap');
    expect(errnoArgumentOf(() => vm.enableCap(2 ** 32))).toBe('EINVAL cap');
    expect(errnoArgumentOf(() => vm.enableCap(CAP_RECORD, [], -1))).toBe('EINVAL flags');
    expect(errnoArgumentOf(() => vm.enableCap(CAP_RECORD, [], 2 ** 32))).toBe('EINVAL flags');
    expect(errnoArgumentOf(() => vm.enableCap(CAP_RECORD, 7 as never))).toBe('EFAULT args');
    expect(message(() => vm.enableCap(CAP_RECORD, 7 as never))).toContain('7');
    expect(errnoArgumentOf(() => vm.enableCap(CAP_RECORD, [1, 2, 3, 4, 5]))).toBe('EINVAL args');
    expect(message(() => vm.enableCap(CAP_RECORD, [1, 2, 3, 4, 5]))).toContain('4 args');
    expect(errnoArgumentOf(() => vm.enableCap(CAP_RECORD, [0, 1.5]))).toBe('EINVAL args');
    expect(message(() => vm.enableCap(CAP_RECORD, [0, 1.5]))).toContain('args[1]');
    expect(errnoArgumentOf(() => vm.enableCap(CAP_RECORD, [0n, 0n, 1n << 64n]))).toBe('EINVAL args');
    expect(message(() => vm.enableCap(CAP_RECORD, [0n, 0n, 1n << 64n]))).toContain('args[2]');
    expect(errnoArgumentOf(() => vm.enableCap(CAP_RECORD, [Number.MAX_SAFE_INTEGER + 1]))).toBe('EINVAL args');
    expect(errnoArgumentOf(() => vm.enableCap(CAP_RECORD, ['1' as never]))).toBe('EINVAL args');
    expect(seen).toEqual([]);
  });

  it('the args reach the capability as u64s (a negative value as its two’s complement), with the flags', () => {
    const { vm, seen } = vmWithCaps();
    vm.enableCap(CAP_RECORD, [1, -1, -(2n ** 63n), 2n ** 64n - 1n], 0xffff_ffff);
    vm.enableCap(CAP_RECORD, [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);
    vm.enableCap(CAP_RECORD);
    expect(seen).toEqual([
      { args: [1n, 2n ** 64n - 1n, 2n ** 63n, 2n ** 64n - 1n], flags: 0xffff_ffff },
      { args: [BigInt(Number.MAX_SAFE_INTEGER), 2n ** 64n - BigInt(Number.MAX_SAFE_INTEGER)], flags: 0 },
      { args: [], flags: 0 },
    ]);
  });

  it('a capability the VM does not have (unknown, or answering 0) or cannot enable is EINVAL naming cap', () => {
    const { vm, seen } = vmWithCaps();
    expect(errnoArgumentOf(() => vm.enableCap(CAP_OFF, [1]))).toBe('EINVAL cap');
    expect(message(() => vm.enableCap(CAP_OFF, [1]))).toContain(String(CAP_OFF));
    expect(errnoArgumentOf(() => vm.enableCap(CAP_NO_ENABLE, [1]))).toBe('EINVAL cap');
    expect(message(() => vm.enableCap(CAP_NO_ENABLE, [1]))).toContain(String(CAP_NO_ENABLE));
    expect(message(() => vm.enableCap(CAP_NO_ENABLE, [1]))).not.toBe(message(() => vm.enableCap(CAP_OFF, [1])));
    expect(errnoArgumentOf(() => vm.enableCap(0x7ff0_0009))).toBe('EINVAL cap');
    expect(seen).toEqual([]);
    expect(vm.checkExtension(CAP_OFF)).toBe(0);
    expect(vm.checkExtension(CAP_NO_ENABLE)).toBe(1);
    expect(vm.checkExtension(CAP_RECORD)).toBe(1); // the VM's answer, not /dev/kvm's
  });

  it('MANUAL_DIRTY_LOG_PROTECT2 through KVM_ENABLE_CAP: a refused value names args and changes nothing', () => {
    const { vm } = vmWithCaps();
    vm.setUserMemoryRegion({ slot: 1, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0x10_0000n, memorySize: 64n * 4096n });
    const before = slotState(vm);
    expect(errnoArgumentOf(() => vm.enableCap(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, [4]))).toBe('EINVAL args');
    // The default kernel (5.4) answers 1 for the capability: only 0 and 1; from 5.7 (3) also 3.
    expect(message(() => vm.enableCap(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, [4]))).toContain('is not 0 or 1');
    expect(message(() => vm.enableManualDirtyLogProtect([4n], 0, 3))).toContain('is not 0, 1 or 3');
    expect(errnoArgumentOf(() => vm.enableCap(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, [1], 1))).toBe('EINVAL args');
    expect(vm.manualDirtyLogProtect).toBe(0);
    expect(slotState(vm)).toEqual(before);
  });
});

/** An MMU plugin that records the slot notifications (kvm_arch_commit_memory_region / flush_shadow). */
function recordingVm() {
  const calls: string[] = [];
  const plugin = definePlugin({
    name: 'recording-mmu',
    setup: (ctx) =>
      ctx.setMmu((vm) => {
        const inner = new WriteProtectMmu(vm);
        return {
          name: 'recording',
          guestWrite: (v, gpa, bytes) => inner.guestWrite(v, gpa, bytes),
          guestRead: (v, gpa, n) => inner.guestRead(v, gpa, n),
          slotChanged: (slot, oldFlags, change) => void calls.push(`${change} ${slot.id} ${oldFlags}->${slot.flags}`),
        };
      }),
  });
  return { vm: createHypervisor({ arch: 'x86_64', plugins: [plugin] }).createVm(), calls };
}

describe('KVM_SET_USER_MEMORY_REGION and the dirty bitmap', () => {
  /** Runs `f` with typed arrays of 256 elements or more failing as the engine fails an allocation. */
  function withFailingAllocations<T>(f: () => T): T {
    const real = Object.getOwnPropertyDescriptor(globalThis, 'Uint8Array')!;
    class Failing extends Uint8Array {
      constructor(...args: unknown[]) {
        if (typeof args[0] === 'number' && args[0] >= 256) throw new RangeError('Array buffer allocation failed');
        super(...(args as []));
      }
    }
    Object.defineProperty(globalThis, 'Uint8Array', { ...real, value: Failing });
    try {
      return f();
    } finally {
      Object.defineProperty(globalThis, 'Uint8Array', real);
    }
  }

  it('only a logging slot allocates a bitmap: without logging no allocation can fail; with it ENOMEM and nothing committed', () => {
    const vm = x86Vm();
    const region = { slot: 2, guestPhysAddr: 1n << 32n, memorySize: 1n << 26n }; // 16384 pages: a 2 KiB bitmap
    withFailingAllocations(() => vm.setUserMemoryRegion({ ...region, flags: 0 }));
    expect(vm.memslots.get(0, 2)!.dirtyBitmap).toBeUndefined();
    const kept = slotState(vm);
    // Starting to log on the existing slot needs the bitmap: ENOMEM, the slot stays as it was.
    expect(withFailingAllocations(() => errnoArgumentOf(() => vm.setUserMemoryRegion({ ...region, flags: KVM_MEM_LOG_DIRTY_PAGES })))).toBe('ENOMEM dirty bitmap');
    expect(slotState(vm)).toEqual(kept);
    // Moving it, or deleting it, allocates nothing either.
    withFailingAllocations(() => vm.setUserMemoryRegion({ ...region, flags: 0, guestPhysAddr: 1n << 33n }));
    withFailingAllocations(() => vm.setUserMemoryRegion({ ...region, flags: KVM_MEM_LOG_DIRTY_PAGES, memorySize: 0n }));
    expect(vm.memslots.get(0, 2)).toBeUndefined();
  });

  it('moving a logging slot keeps its bitmap and its bits (new = old in __kvm_set_memory_region)', () => {
    const vm = x86Vm();
    const region = { slot: 1, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0x10_0000n, memorySize: 64n * 4096n };
    vm.setUserMemoryRegion(region);
    const bm = vm.memslots.get(0, 1)!.dirtyBitmap;
    expect(vm.markPageDirty(0x100n + 3n)).toBe(true);
    vm.setUserMemoryRegion({ ...region, guestPhysAddr: 0x80_0000n });
    expect(vm.memslots.get(0, 1)!.dirtyBitmap).toBe(bm);
    expect([...vm.getDirtyLog(1)].slice(0, 1)).toEqual([0b1000]);
    // Logging turned off drops it.
    vm.setUserMemoryRegion({ ...region, guestPhysAddr: 0x80_0000n, flags: 0 });
    expect(vm.memslots.get(0, 1)!.dirtyBitmap).toBeUndefined();
  });

  it('the MMU hears of every created, moved, re-flagged and deleted slot, and of nothing else', () => {
    const { vm, calls } = recordingVm();
    const region = { slot: 1, flags: 0, guestPhysAddr: 0x10_0000n, memorySize: 16n * 4096n };
    vm.setUserMemoryRegion(region);
    vm.setUserMemoryRegion(region); // the same region again: KVM_MR_NONE... nothing to tell
    vm.setUserMemoryRegion({ ...region, flags: KVM_MEM_LOG_DIRTY_PAGES });
    vm.setUserMemoryRegion({ ...region, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0x20_0000n });
    vm.setUserMemoryRegion({ ...region, memorySize: 0n });
    // Deleting a slot that does not exist is EINVAL in 5.4 (__kvm_set_memory_region: `if (!old.npages) goto out`) and tells nobody.
    expect(errnoArgumentOf(() => vm.setUserMemoryRegion({ ...region, slot: 5, memorySize: 0n })).startsWith('EINVAL')).toBe(true);
    expect(calls).toEqual(['create 1 0->0', 'flags-only 1 0->1', 'move 1 1->1', 'delete 1 1->1']);
  });
});

describe('refusals name the ioctl, the argument and the value', () => {
  it('KVM_GET_DIRTY_LOG', () => {
    const vm = x86Vm();
    vm.setUserMemoryRegion({ slot: 1, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0x10_0000n, memorySize: 128n * 4096n });
    vm.setUserMemoryRegion({ slot: 2, flags: 0, guestPhysAddr: 0x80_0000n, memorySize: 4096n });
    expect(message(() => vm.getDirtyLog(-1))).toContain('KVM_GET_DIRTY_LOG: slot -1');
    expect(errnoArgumentOf(() => vm.getDirtyLog(-1))).toBe('EINVAL slot');
    expect(message(() => vm.getDirtyLog(600))).toMatch(/KVM_GET_DIRTY_LOG: slot 600 out of range/);
    expect(errnoArgumentOf(() => vm.getDirtyLog(600))).toBe('EINVAL slot');
    expect(message(() => vm.getDirtyLog(7))).toMatch(/KVM_GET_DIRTY_LOG: slot 7 does not exist/);
    expect(message(() => vm.getDirtyLog(2))).toMatch(/KVM_GET_DIRTY_LOG: slot 2 does not log dirty pages/);
    expect(vm.markPageDirty(0x100n)).toBe(true);
    // A plain Array is a bad dirty_bitmap pointer: EFAULT before the harvest, so the bit stays.
    expect(errnoArgumentOf(() => vm.getDirtyLog(1, [] as unknown as Uint8Array))).toBe('EFAULT bitmap');
    expect(vm.stats.getDirtyLogCalls).toBe(0); // refused before the harvest
    expect(message(() => vm.getDirtyLog(1, [] as unknown as Uint8Array))).toContain('dirty_bitmap');
    expect(message(() => vm.getDirtyLog(1, new Uint8Array(3)))).toMatch(/3 bytes, 16 needed/);
    expect(vm.stats.pagesHarvested).toBe(1); // the short buffer came after the harvest
  });

  it('KVM_CLEAR_DIRTY_LOG: each field, and the slot checked before first_page (kvm_clear_dirty_log_protect)', () => {
    const vm = x86Vm();
    vm.enableManualDirtyLogProtect([1n], 0);
    vm.setUserMemoryRegion({ slot: 1, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0x10_0000n, memorySize: 128n * 4096n });
    const ok = { slot: 1, firstPage: 0, numPages: 64, bitmap: new Uint8Array(8) };
    const cases: [unknown, string, string | RegExp][] = [
      [null, 'EFAULT args', 'struct kvm_clear_dirty_log'],
      [{ ...ok, slot: -1 }, 'EINVAL slot', 'KVM_CLEAR_DIRTY_LOG: slot -1'],
      [{ ...ok, numPages: -1 }, 'EINVAL numPages', 'num_pages -1'],
      [{ ...ok, firstPage: -64 }, 'EINVAL firstPage', 'first_page -64'],
      [{ ...ok, firstPage: -64n }, 'EINVAL firstPage', 'first_page -64'],
      [{ ...ok, bitmap: [0] }, 'EFAULT bitmap', 'dirty_bitmap'],
      // An out-of-range slot is EINVAL slot even when first_page is misaligned too.
      [{ ...ok, slot: 2 << 16, firstPage: 1 }, 'EINVAL slot', /KVM_CLEAR_DIRTY_LOG: slot 131072 out of range/],
      [{ ...ok, slot: 509, firstPage: 1 }, 'EINVAL slot', 'out of range'],
      [{ ...ok, slot: 508, firstPage: 1 }, 'EINVAL firstPage', 'first_page 1 is not a multiple of 64'],
      [{ ...ok, slot: 1 << 16, firstPage: 1 }, 'EINVAL firstPage', 'first_page 1'],
      [{ ...ok, slot: 3 }, 'ENOENT slot', 'KVM_CLEAR_DIRTY_LOG: slot 3 does not exist'],
      [{ ...ok, numPages: 100 }, 'EINVAL numPages', 'pages [0, +100) do not fit slot 1 of 128 pages'],
      [{ ...ok, bitmap: new Uint8Array(7) }, 'EFAULT bitmap', 'bitmap has 7 bytes, 8 needed'],
    ];
    for (const [args, outcome, text] of cases) {
      const f = () => vm.clearDirtyLog(args as never);
      expect(errnoArgumentOf(f), JSON.stringify(args, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))).toBe(outcome);
      if (typeof text === 'string') expect(message(f)).toContain(text);
      else expect(message(f)).toMatch(text);
    }
    expect(vm.stats.clearDirtyLogCalls).toBe(0);
  });

  it('KVM_CREATE_VCPU, kvm_write_guest, kvm_vcpu_mark_page_dirty', () => {
    const vm = x86Vm();
    const max = vm.hv.kernel.maxVcpuId;
    expect(message(() => vm.createVcpu(max))).toContain(`vcpu id ${max} is not in 0..KVM_MAX_VCPU_ID-1 (${max - 1})`);
    expect(errnoArgumentOf(() => vm.createVcpu('1' as never))).toBe('EINVAL id');
    vm.createVcpu(3);
    expect(errnoArgumentOf(() => vm.createVcpu(3))).toBe('EEXIST id');
    expect(message(() => vm.createVcpu(3))).toContain('vcpu 3 already exists');
    const full = createHypervisor({ arch: 'x86_64' }).createVm();
    for (let i = 0; i < full.hv.kernel.maxVcpus; i++) full.createVcpu(i);
    expect(errnoArgumentOf(() => full.createVcpu(full.hv.kernel.maxVcpus))).toBe('EINVAL id');
    expect(message(() => full.createVcpu(full.hv.kernel.maxVcpus))).toContain('too many vCPUs');
    expect(errnoArgumentOf(() => vm.kvmWriteGuest(0n, [1] as unknown as Uint8Array))).toBe('EFAULT bytes');
    expect(vm.markPageDirty(0x100 as unknown as bigint)).toBe(false);
  });

  it('a new VM has not run; KVM_ARM_SET_COUNTER_OFFSET is arm64 only', () => {
    const vm = x86Vm();
    expect(vm.hasRun).toBe(false);
    expect(errnoArgumentOf(() => vm.armSetCounterOffset({ counterOffset: 0n, reserved: 0n } as never))).toBe('EINVAL ioctl');
    expect(message(() => vm.armSetCounterOffset({ counterOffset: 0n, reserved: 0n } as never))).toContain('arm64 ioctl');
    // On arm64 the VM ioctl reaches the timer: a 6.4+ kernel takes it; an older one says it has no such ioctl.
    const arm = createHypervisor({ arch: 'arm64', kernel: '6.4' }).createVm();
    arm.armSetCounterOffset({ counterOffset: 5n, reserved: 0n });
    const old = createHypervisor({ arch: 'arm64', kernel: '6.3' }).createVm();
    expect(message(() => old.armSetCounterOffset({ counterOffset: 5n, reserved: 0n }))).toContain('added in 6.4');
  });

  it('on 6.18 x86 slots must end below 2^52 (kvm_mmu_max_gfn()); arm64 has no such check in the model', () => {
    const above = { slot: 1, flags: 0, guestPhysAddr: 1n << 52n, memorySize: 4096n };
    const x86 = x86Vm([], '6.18');
    expect(x86.hv.kernel.maxGpaBits).toBe(52);
    expect(errnoArgumentOf(() => x86.setUserMemoryRegion(above)).startsWith('EINVAL')).toBe(true);
    x86.setUserMemoryRegion({ ...above, guestPhysAddr: (1n << 52n) - 4096n });
    const arm = createHypervisor({ arch: 'arm64', kernel: '6.18' }).createVm();
    arm.setUserMemoryRegion(above);
    expect(arm.memslots.get(0, 1)).toBeDefined();
  });
});
