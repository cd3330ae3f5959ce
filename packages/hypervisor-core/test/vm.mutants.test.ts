// The VM ioctls at their edges (issue 22, mutation testing): KVM_ENABLE_CAP, the dirty-log
// ioctls' argument checks and copy semantics, kvm_write_guest()'s dirty marking and
// KVM_CREATE_VCPU. Rules: virt/kvm/kvm_main.c of Linux 5.4 (kvm_vm_ioctl_enable_cap_generic,
// kvm_get_dirty_log_protect, kvm_clear_dirty_log_protect, kvm_vm_ioctl_create_vcpu) and 5.7 for
// KVM_DIRTY_LOG_INITIALLY_SET.
import { describe, expect, it } from 'vitest';
import {
  KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
  KVM_DIRTY_LOG_INITIALLY_SET,
  KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE,
  KVM_MAX_VCPU_ID,
  KVM_MAX_VCPUS,
  KVM_MEM_LOG_DIRTY_PAGES,
  KVM_USER_MEM_SLOTS,
} from '../src/constants.js';
import { createHypervisor } from '../src/hypervisor.js';
import type { Vm } from '../src/vm/vm.js';
import type { Memslot } from '../src/vm/memslots.js';
import { WriteProtectMmu } from '../src/vm/mmu.js';
import { definePlugin } from '../src/plugin/define-plugin.js';
import { errnoArgumentOf, errnoOf, slotState, x86Vm } from './helpers.js';

const PAGE = 4096n;
const LOG = KVM_MEM_LOG_DIRTY_PAGES;
const MANUAL = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE;
const BOTH = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET;

/** A VM with slot 1 of `npages` pages at 1 MiB, logging dirty pages. */
function logged(npages: bigint, kernel?: string, manual = 0): Vm {
  const vm = x86Vm([], kernel);
  if (manual !== 0) vm.enableManualDirtyLogProtect([BigInt(manual)], 0);
  vm.setUserMemoryRegion({ slot: 1, flags: LOG, guestPhysAddr: 0x10_0000n, memorySize: npages * PAGE });
  return vm;
}
const pagesOf = (bm: Uint8Array): number[] => {
  const out: number[] = [];
  bm.forEach((byte, i) => {
    for (let b = 0; b < 8; b++) if ((byte >> b) & 1) out.push(i * 8 + b);
  });
  return out;
};
const dirty = (vm: Vm, ...pages: number[]) => {
  for (const p of pages) expect(vm.markPageDirty(0x100n + BigInt(p))).toBe(true);
};

describe('KVM_ENABLE_CAP / KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2', () => {
  it('args[0] 0, 1 and (5.7+) 3 are accepted; 2 and unknown bits are EINVAL; flags must be 0', () => {
    const vm = x86Vm();
    for (const [arg, want] of [[0n, 'ok'], [1n, 'ok'], [3n, 'ok'], [2n, 'EINVAL'], [5n, 'EINVAL'], [4n, 'EINVAL']] as const) {
      expect(errnoOf(() => vm.enableManualDirtyLogProtect([arg], 0)) ?? 'ok', `args[0] = ${arg}`).toBe(want);
    }
    expect(errnoOf(() => vm.enableManualDirtyLogProtect([1n], 1))).toBe('EINVAL');
    expect(vm.manualDirtyLogProtect).toBe(3);
    vm.enableManualDirtyLogProtect([], 0);
    expect(vm.manualDirtyLogProtect).toBe(0);
  });

  it('before 5.7 the capability answers 1: only 0 and 1', () => {
    const vm = x86Vm();
    expect(errnoOf(() => vm.enableManualDirtyLogProtect([3n], 0, 1))).toBe('EINVAL');
    expect(errnoOf(() => vm.enableManualDirtyLogProtect([1n], 0, 1))).toBeUndefined();
  });

  it('enableCap: more than 4 args, an unknown capability or one that cannot be enabled is EINVAL', () => {
    const vm = x86Vm();
    expect(errnoOf(() => vm.enableCap(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, [1, 0, 0, 0, 0]))).toBe('EINVAL');
    expect(errnoOf(() => vm.enableCap(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, [1, 0, 0, 0]))).toBeUndefined();
    expect(vm.manualDirtyLogProtect).toBe(1);
    expect(errnoOf(() => vm.enableCap(0x7fff_0000, [1]))).toBe('EINVAL');
    expect(vm.checkExtension(0x7fff_0000)).toBe(0);
  });

  it('INITIALLY_SET only together with MANUAL_PROTECT_ENABLE sets every bit of a new bitmap', () => {
    expect(pagesOf(logged(70n, undefined, BOTH).getDirtyLog(1))).toEqual(Array.from({ length: 70 }, (_, i) => i));
    expect(pagesOf(logged(70n, undefined, MANUAL).getDirtyLog(1))).toEqual([]);
    expect(pagesOf(logged(70n).getDirtyLog(1))).toEqual([]);
  });
});

describe('dirty logging follows the slot flags', () => {
  it('turning LOG_DIRTY_PAGES on allocates a bitmap, off drops it, a flags-only change keeps the memory', () => {
    const vm = x86Vm();
    vm.setUserMemoryRegion({ slot: 1, flags: 0, guestPhysAddr: 0x10_0000n, memorySize: 64n * PAGE });
    expect(vm.memslots.get(0, 1)!.dirtyBitmap).toBeUndefined();
    vm.memory.write(0x10_0000n, new Uint8Array([7]));
    vm.setUserMemoryRegion({ slot: 1, flags: LOG, guestPhysAddr: 0x10_0000n, memorySize: 64n * PAGE });
    expect(vm.memslots.get(0, 1)!.dirtyBitmap?.bytes.length).toBe(8);
    dirty(vm, 3);
    // Re-setting the same flags keeps the bitmap and its bits.
    vm.setUserMemoryRegion({ slot: 1, flags: LOG, guestPhysAddr: 0x10_0000n, memorySize: 64n * PAGE });
    expect(pagesOf(vm.getDirtyLog(1))).toEqual([3]);
    vm.setUserMemoryRegion({ slot: 1, flags: 0, guestPhysAddr: 0x10_0000n, memorySize: 64n * PAGE });
    expect(vm.memslots.get(0, 1)!.dirtyBitmap).toBeUndefined();
    expect(errnoOf(() => vm.getDirtyLog(1))).toBe('ENOENT');
    expect(vm.memory.read(0x10_0000n, 1)[0]).toBe(7);
  });

  it('a deleted slot has no log: ENOENT; a slot id out of range: EINVAL', () => {
    const vm = logged(64n);
    vm.setUserMemoryRegion({ slot: 1, flags: 0, guestPhysAddr: 0x10_0000n, memorySize: 0n });
    expect(errnoOf(() => vm.getDirtyLog(1))).toBe('ENOENT');
    expect(errnoOf(() => vm.getDirtyLog(2))).toBe('ENOENT');
    for (const s of [KVM_USER_MEM_SLOTS, -1, 1.5, 2 << 16]) expect(errnoOf(() => vm.getDirtyLog(s)), `slot ${s}`).toBe('EINVAL');
    expect(errnoOf(() => vm.getDirtyLog((1 << 16) | 1))).toBe('ENOENT'); // SMM address space: valid, empty
  });
});

describe('KVM_GET_DIRTY_LOG', () => {
  it('without manual protect: returns the bits, clears them and counts the harvest', () => {
    const vm = logged(128n);
    dirty(vm, 0, 63, 64, 127);
    expect(pagesOf(vm.getDirtyLog(1))).toEqual([0, 63, 64, 127]);
    expect(vm.stats.pagesHarvested).toBe(4);
    expect(pagesOf(vm.getDirtyLog(1))).toEqual([]);
    expect(vm.stats).toMatchObject({ getDirtyLogCalls: 2, pagesHarvested: 4 });
  });

  it('with manual protect: a copy only, nothing cleared, nothing counted as harvested', () => {
    const vm = logged(128n, undefined, MANUAL);
    dirty(vm, 5);
    expect(pagesOf(vm.getDirtyLog(1))).toEqual([5]);
    expect(pagesOf(vm.getDirtyLog(1))).toEqual([5]);
    expect(vm.stats).toMatchObject({ getDirtyLogCalls: 2, pagesHarvested: 0 });
  });

  it("fills the caller's buffer, at any byte offset, and returns it", () => {
    const vm = logged(128n);
    dirty(vm, 1, 100);
    const backing = new Uint8Array(17);
    const buf = backing.subarray(1); // byteOffset 1: not 4-byte aligned
    const out = vm.getDirtyLog(1, buf);
    expect(pagesOf(buf)).toEqual([1, 100]);
    expect(pagesOf(out)).toEqual([1, 100]);
    expect(backing[0]).toBe(0);
    dirty(vm, 2);
    expect(pagesOf(vm.getDirtyLog(1, new Uint8Array(16)))).toEqual([2]);
  });

  it('a buffer too short is EFAULT: after the harvest without manual protect, before anything with it', () => {
    const vm = logged(128n);
    dirty(vm, 9);
    expect(errnoOf(() => vm.getDirtyLog(1, new Uint8Array(15)))).toBe('EFAULT');
    expect(pagesOf(vm.getDirtyLog(1))).toEqual([]); // the bits were cleared before copy_to_user
    expect(vm.stats.getDirtyLogCalls).toBe(2);
    const m = logged(128n, undefined, MANUAL);
    dirty(m, 9);
    expect(errnoOf(() => m.getDirtyLog(1, new Uint8Array(15)))).toBe('EFAULT');
    expect(m.stats.getDirtyLogCalls).toBe(0);
    expect(pagesOf(m.getDirtyLog(1, new Uint8Array(16)))).toEqual([9]);
  });
});

describe('KVM_CLEAR_DIRTY_LOG (kvm_clear_dirty_log_protect)', () => {
  const all = (n: number) => new Uint8Array(Math.ceil(n / 64) * 8).fill(0xff);
  function manual(npages: bigint) {
    const vm = logged(npages, undefined, BOTH);
    return vm;
  }

  it('clears exactly the bits given, relative to first_page', () => {
    const vm = manual(256n);
    const bm = new Uint8Array(8);
    bm[0] = 0b101; // pages 64 and 66
    vm.clearDirtyLog({ slot: 1, firstPage: 64, numPages: 64, bitmap: bm });
    const left = pagesOf(vm.getDirtyLog(1));
    expect(left).toHaveLength(254);
    expect(left.includes(64) || left.includes(66)).toBe(false);
    expect(left.includes(65)).toBe(true);
    expect(vm.stats.clearDirtyLogCalls).toBe(1);
  });

  it('first_page must be a multiple of 64 and inside the slot', () => {
    const vm = manual(256n);
    for (const fp of [1, 32, 63, -64]) expect(errnoOf(() => vm.clearDirtyLog({ slot: 1, firstPage: fp, numPages: 64, bitmap: all(64) })), `first ${fp}`).toBe('EINVAL');
    expect(errnoOf(() => vm.clearDirtyLog({ slot: 1, firstPage: 320, numPages: 0, bitmap: all(64) }))).toBe('EINVAL');
    expect(errnoOf(() => vm.clearDirtyLog({ slot: 1, firstPage: 256, numPages: 0, bitmap: new Uint8Array(0) }))).toBeUndefined();
    expect(errnoOf(() => vm.clearDirtyLog({ slot: 1, firstPage: 192n, numPages: 64, bitmap: all(64) }))).toBeUndefined();
  });

  it('num_pages: a u32, not past the end, a multiple of 64 unless it reaches the end', () => {
    const vm = manual(200n);
    for (const n of [-1, 1.5, 2 ** 32]) expect(errnoOf(() => vm.clearDirtyLog({ slot: 1, firstPage: 0, numPages: n, bitmap: all(256) })), `n ${n}`).toBe('EINVAL');
    expect(errnoOf(() => vm.clearDirtyLog({ slot: 1, firstPage: 0, numPages: 201, bitmap: all(256) }))).toBe('EINVAL');
    expect(errnoOf(() => vm.clearDirtyLog({ slot: 1, firstPage: 128, numPages: 73, bitmap: all(128) }))).toBe('EINVAL');
    expect(errnoOf(() => vm.clearDirtyLog({ slot: 1, firstPage: 0, numPages: 100, bitmap: all(128) }))).toBe('EINVAL');
    expect(errnoOf(() => vm.clearDirtyLog({ slot: 1, firstPage: 0, numPages: 128, bitmap: all(128) }))).toBeUndefined();
    expect(errnoOf(() => vm.clearDirtyLog({ slot: 1, firstPage: 128, numPages: 72, bitmap: all(72) }))).toBeUndefined();
    expect(pagesOf(vm.getDirtyLog(1))).toEqual([]);
  });

  it('a bitmap shorter than ALIGN(num_pages, 64) / 8 bytes is EFAULT and clears nothing', () => {
    const vm = manual(128n);
    expect(errnoOf(() => vm.clearDirtyLog({ slot: 1, firstPage: 0, numPages: 128, bitmap: new Uint8Array(15).fill(0xff) }))).toBe('EFAULT');
    expect(errnoOf(() => vm.clearDirtyLog({ slot: 1, firstPage: 0, numPages: 65, bitmap: new Uint8Array(8).fill(0xff) }))).toBe('EINVAL');
    expect(pagesOf(vm.getDirtyLog(1))).toHaveLength(128);
    expect(vm.stats.clearDirtyLogCalls).toBe(0);
  });

  it('the slot argument: out of range EINVAL, no log ENOENT', () => {
    const vm = manual(64n);
    for (const s of [-1, KVM_USER_MEM_SLOTS, 2 << 16, 0.5]) expect(errnoOf(() => vm.clearDirtyLog({ slot: s, firstPage: 0, numPages: 64, bitmap: all(64) })), `slot ${s}`).toBe('EINVAL');
    expect(errnoOf(() => vm.clearDirtyLog({ slot: 3, firstPage: 0, numPages: 64, bitmap: all(64) }))).toBe('ENOENT');
  });
});

describe('kvm_write_guest() marks every page it touches', () => {
  it('a write across a page boundary dirties both pages; one byte one page; none outside a logged slot', () => {
    const vm = logged(8n);
    vm.kvmWriteGuest(0x10_0000n + PAGE - 2n, new Uint8Array(4));
    expect(pagesOf(vm.getDirtyLog(1))).toEqual([0, 1]);
    vm.kvmWriteGuest(0x10_0000n + 3n * PAGE + 5n, new Uint8Array(1));
    expect(pagesOf(vm.getDirtyLog(1))).toEqual([3]);
    vm.kvmWriteGuest(0x10_0000n + 2n * PAGE, new Uint8Array(Number(PAGE)));
    expect(pagesOf(vm.getDirtyLog(1))).toEqual([2]);
    expect(vm.kvmReadGuest(0x10_0000n + PAGE - 2n, 4)).toEqual(new Uint8Array(4));
    expect(vm.markPageDirty(0x100n + 8n)).toBe(false);
    expect(vm.markPageDirty(0x100n, 1)).toBe(false);
  });

  it('a zero-length write writes nothing and marks nothing, even at a page edge (kvm_write_guest() with len 0)', () => {
    const vm = logged(8n);
    vm.getDirtyLog(1); // start from a clean log
    for (const gpa of [0x10_0000n, 0x10_0000n + PAGE - 1n, 0x10_0000n + 5n * PAGE + 7n]) vm.kvmWriteGuest(gpa, new Uint8Array(0));
    expect(pagesOf(vm.getDirtyLog(1))).toEqual([]);
    expect(vm.memory.residentPages).toBe(0);
    // Nothing is written, so no slot need hold the address either (no segment is touched).
    expect(errnoOf(() => vm.kvmWriteGuest(0x4000_0000n, new Uint8Array(0)))).toBeUndefined();
  });
});

describe('KVM_CREATE_VCPU', () => {
  it('ids 0 .. KVM_MAX_VCPU_ID - 1, no duplicates (EEXIST), at most KVM_MAX_VCPUS', () => {
    const vm = x86Vm();
    expect(vm.createVcpu(KVM_MAX_VCPU_ID - 1).id).toBe(KVM_MAX_VCPU_ID - 1);
    for (const id of [KVM_MAX_VCPU_ID, -1, 0.5]) expect(errnoOf(() => vm.createVcpu(id)), `id ${id}`).toBe('EINVAL');
    expect(errnoOf(() => vm.createVcpu(KVM_MAX_VCPU_ID - 1))).toBe('EEXIST');
    for (let i = 0; i < KVM_MAX_VCPUS - 1; i++) vm.createVcpu(i);
    expect(vm.vcpus).toHaveLength(KVM_MAX_VCPUS);
    expect(errnoOf(() => vm.createVcpu(KVM_MAX_VCPUS))).toBe('EINVAL');
    expect(vm.vcpus).toHaveLength(KVM_MAX_VCPUS);
  });

  it('KVM_ARM_SET_COUNTER_OFFSET is an arm64 ioctl', () => {
    const vm = x86Vm();
    const before = slotState(vm);
    expect(errnoOf(() => vm.armSetCounterOffset({ counterOffset: 0n, reserved: 0n } as never))).toBe('EINVAL');
    expect(slotState(vm)).toEqual(before);
    expect(createHypervisor({ arch: 'arm64' }).createVm().memslots.addressSpaces).toBe(1);
  });
});

describe('each VM ioctl error names the argument at fault (KvmError.argument)', () => {
  const arg = errnoArgumentOf;
  it('args, cap, slot, bitmap, firstPage, numPages, id, ioctl', () => {
    const vm = logged(128n, undefined, MANUAL);
    expect(arg(() => vm.enableManualDirtyLogProtect([4n], 0))).toBe('EINVAL args');
    expect(arg(() => vm.enableCap(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, [1, 0, 0, 0, 0]))).toBe('EINVAL args');
    expect(arg(() => vm.enableCap(0x7fff_0000))).toBe('EINVAL cap');
    expect(arg(() => vm.getDirtyLog(-1))).toBe('EINVAL slot');
    expect(arg(() => vm.getDirtyLog(7))).toBe('ENOENT slot');
    expect(arg(() => vm.getDirtyLog(1, new Uint8Array(1)))).toBe('EFAULT bitmap');
    const bm = new Uint8Array(16);
    expect(arg(() => vm.clearDirtyLog({ slot: -1, firstPage: 0, numPages: 64, bitmap: bm }))).toBe('EINVAL slot');
    expect(arg(() => vm.clearDirtyLog({ slot: 1, firstPage: 1, numPages: 64, bitmap: bm }))).toBe('EINVAL firstPage');
    expect(arg(() => vm.clearDirtyLog({ slot: 1, firstPage: 0, numPages: -1, bitmap: bm }))).toBe('EINVAL numPages');
    expect(arg(() => vm.clearDirtyLog({ slot: 1, firstPage: 0, numPages: 129, bitmap: bm }))).toBe('EINVAL numPages');
    expect(arg(() => vm.clearDirtyLog({ slot: 1, firstPage: 0, numPages: 128, bitmap: new Uint8Array(8) }))).toBe('EFAULT bitmap');
    expect(arg(() => vm.clearDirtyLog({ slot: 9, firstPage: 0, numPages: 64, bitmap: bm }))).toBe('ENOENT slot');
    expect(arg(() => vm.createVcpu(-1))).toBe('EINVAL id');
    vm.createVcpu(0);
    expect(arg(() => vm.createVcpu(0))).toBe('EEXIST id');
    expect(arg(() => vm.armSetCounterOffset({ counterOffset: 0n, reserved: 0n } as never))).toBe('EINVAL ioctl');
  });
});

describe('the MMU hooks the dirty-log ioctls drive (kvm_arch_mmu_enable_log_dirty_pt_masked, kvm_flush_pml_buffers)', () => {
  /** A write-protect MMU that also records flushLogs() and reprotect(slot, firstPage, mask). */
  function recorded(manual: number) {
    const calls: string[] = [];
    const plugin = definePlugin({
      name: 'recording-mmu',
      arch: 'x86_64',
      setup: (ctx) =>
        ctx.setMmu((vm) =>
          Object.assign(new WriteProtectMmu(vm), {
            flushLogs: () => void calls.push('flush'),
            reprotect: (slot: Memslot, first: number, mask: number) => void calls.push(`reprotect ${slot.id} ${first} 0x${(mask >>> 0).toString(16)}`),
          }),
        ),
    });
    const vm = createHypervisor({ arch: 'x86_64', plugins: [plugin] }).createVm();
    if (manual !== 0) vm.enableManualDirtyLogProtect([BigInt(manual)], 0);
    vm.setUserMemoryRegion({ slot: 1, flags: LOG, guestPhysAddr: 0x10_0000n, memorySize: 128n * PAGE });
    return { vm, calls };
  }

  it('GET_DIRTY_LOG flushes the hardware logs, then re-protects each 32-page lane that had dirty bits, with exactly those bits', () => {
    const { vm, calls } = recorded(0);
    expect(vm.mmu).toBe(vm.mmu); // one MMU per VM
    dirty(vm, 0, 31, 32, 100);
    vm.getDirtyLog(1);
    expect(calls).toEqual(['flush', 'reprotect 1 0 0x80000001', 'reprotect 1 32 0x1', 'reprotect 1 96 0x10']);
    calls.length = 0;
    // Into a caller's buffer at an odd byte offset: the same lanes.
    dirty(vm, 33);
    const backing = new Uint8Array(17);
    vm.getDirtyLog(1, backing.subarray(1));
    expect(calls).toEqual(['flush', 'reprotect 1 32 0x2']);
  });

  it('with manual protect GET_DIRTY_LOG only flushes; CLEAR re-protects the bits it cleared, lane by lane', () => {
    const { vm, calls } = recorded(MANUAL);
    dirty(vm, 64, 65, 127);
    vm.getDirtyLog(1);
    expect(calls).toEqual(['flush']);
    calls.length = 0;
    const bm = new Uint8Array(8);
    bm[0] = 0b111; // pages 64, 65, 66: 66 was clean, so nothing of it is re-protected
    bm[7] = 0x80; // page 127
    vm.clearDirtyLog({ slot: 1, firstPage: 64, numPages: 64, bitmap: bm });
    expect(calls).toEqual(['flush', 'reprotect 1 64 0x3', 'reprotect 1 96 0x80000000']);
    calls.length = 0;
    vm.clearDirtyLog({ slot: 1, firstPage: 64, numPages: 64, bitmap: bm }); // all clean now
    expect(calls).toEqual(['flush']);
  });

  it('an ioctl refused by its checks reaches no MMU hook', () => {
    const { vm, calls } = recorded(MANUAL);
    expect(errnoOf(() => vm.clearDirtyLog({ slot: 1, firstPage: 1, numPages: 64, bitmap: new Uint8Array(8) }))).toBe('EINVAL');
    expect(errnoOf(() => vm.getDirtyLog(1, new Uint8Array(1)))).toBe('EFAULT');
    expect(calls).toEqual([]);
  });
});
