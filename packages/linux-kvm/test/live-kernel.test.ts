import { readdirSync, readFileSync } from 'node:fs';
import { KvmError, KVM_MEM_LOG_DIRTY_PAGES, isKvmError } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import { isAvailable } from '../src/available.js';
import { runConformance } from '../src/conform/conformance.js';
import { KVM_EXIT_HLT } from '../src/ffi/kvm-abi.js';
import { KernelTarget } from '../src/conform/kernel-target.js';
import { KvmSystem } from '../src/ffi/kvm.js';
import { HostMapping } from '../src/ffi/mapping.js';
import { runGuestWrites } from '../src/guest/run-guest.js';

const avail = isAvailable();
if (!avail.ok) {
  // Visible in every run's output, never silent.
  console.warn(`[linux-kvm] live /dev/kvm tests SKIPPED: ${avail.reason}`);
}

describe('availability', () => {
  it('says why when the device is missing', () => {
    const r = isAvailable('/dev/no-such-kvm');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/does not exist/);
  });
  if (!avail.ok) it.skip(`live /dev/kvm tests skipped: ${avail.reason}`, () => undefined);
});

const fdCount = (): number => readdirSync('/proc/self/fd').length;
const maps = (): string[] => readFileSync('/proc/self/maps', 'utf8').trim().split('\n');
/** kvm_run mappings, and mappings of at least 32 GiB (the 64 GiB slots): Node makes neither. */
const kvmMaps = (): number => maps().filter((l) => l.includes('kvm-vcpu')).length;
const hugeMaps = (): number =>
  maps().filter((l) => {
    const [a = '0', b = '0'] = (l.split(' ')[0] ?? '').split('-');
    return BigInt(`0x${b}`) - BigInt(`0x${a}`) >= 32n << 30n;
  }).length;

describe.skipIf(!avail.ok)('live kernel', () => {
  it('the model gives every answer the running kernel gives (except documented era differences)', () => {
    const r = runConformance({ live: true });
    const bad = r.rows.filter((row) => row.match === 'no');
    expect(bad, bad.map((b) => `${b.script}#${b.index} ${b.step}: kernel ${b.kernel}, model ${b.model}`).join('\n')).toEqual([]);
    expect(r.source).toBe('live');
  });

  it('a failing ioctl throws core\'s KvmError with the kernel\'s errno, and leaves the VM usable', () => {
    const sys = KvmSystem.open();
    try {
      const vm = sys.createVm();
      vm.createVcpu(0);
      let err: unknown;
      try {
        vm.createVcpu(0);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KvmError);
      expect(isKvmError(err, 'EEXIST')).toBe(true);
      expect((err as KvmError).code).toBe(17);
      expect(vm.createVcpu(1).id).toBe(1);
    } finally {
      sys.close();
    }
  });

  for (const mode of ['flat32', 'real16'] as const) {
    it(`a ${mode} guest writes the given bytes and halts; the dirty log shows exactly those pages`, () => {
      const sys = KvmSystem.open();
      try {
        const vm = sys.createVm();
        const mem = vm.mapAnonymous(0x10_0000n);
        vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0x8_0000n, memorySize: 0x10_0000n, userspaceAddr: mem.addr });
        const vcpu = vm.createVcpu(0);
        const r = runGuestWrites(vm, vcpu, mode, [
          { gpa: 0x8_1ffen, bytes: Uint8Array.of(1, 2, 3, 4) }, // straddles pages 1 and 2
          { gpa: 0x8_7000n, bytes: Uint8Array.of(0xee) },
        ], 5, [{ gpa: 0x8_0000n, size: 0x10_0000n }]);
        expect(r.exitReason).toBe(KVM_EXIT_HLT);
        expect([...mem.read(0x1ffe, 4)]).toEqual([1, 2, 3, 4]);
        expect(mem.read(0x7000, 1)[0]).toBe(0xee);
        const bm = vm.getDirtyLog(0, 256);
        expect(bm[0]).toBe(0b1000_0110);
        expect(bm.subarray(1).every((b) => b === 0)).toBe(true);
      } finally {
        sys.close();
      }
    });
  }

  it('a refused KVM_SET_USER_MEMORY_REGION releases the memory mapped for it; a delete releases the slot\'s', () => {
    const t = new KernelTarget();
    try {
      const live = HostMapping.liveCount;
      expect(t.run({ op: 'setMemslot', slot: 0, flags: 0, gpa: '0x0', size: '0x100000' })).toEqual({ ret: 0, errno: null });
      expect(HostMapping.liveCount).toBe(live + 1);
      expect(t.run({ op: 'setMemslot', slot: 0, flags: 0, gpa: '0x0', size: '0x200000' }).errno).toBe('EINVAL'); // resize
      expect(t.run({ op: 'setMemslot', slot: 1, flags: 0, gpa: '0x80000', size: '0x100000' }).errno).toBe('EEXIST');
      expect(HostMapping.liveCount).toBe(live + 1);
      expect(t.run({ op: 'setMemslot', slot: 0, flags: 0, gpa: '0x0', size: '0x0' }).errno).toBeNull();
      expect(HostMapping.liveCount).toBe(live);
    } finally {
      t.close();
    }
  });

  it('no fd and no mapping leaks: VMs, vCPUs, 64 GiB slots and guest runs all released', () => {
    const cycle = (): void => {
      const sys = KvmSystem.open();
      const vm = sys.createVm();
      const big = vm.mapAnonymous(64n << 30n);
      vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 1n << 36n, memorySize: 64n << 30n, userspaceAddr: big.addr });
      const small = vm.mapAnonymous(0x1_0000n);
      vm.setUserMemoryRegion({ slot: 1, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0x10_0000n, memorySize: 0x1_0000n, userspaceAddr: small.addr });
      const vcpu = vm.createVcpu(0);
      runGuestWrites(vm, vcpu, 'flat32', [{ gpa: 0x10_0000n, bytes: Uint8Array.of(1) }], 7, [{ gpa: 0x10_0000n, size: 0x1_0000n }, { gpa: 1n << 36n, size: 64n << 30n }]);
      vm.getDirtyLog(0, 1 << 24);
      vm.clearDirtyLog({ slot: 1, firstPage: 0n, numPages: 16, bitmap: Uint8Array.of(0xff, 0xff) });
      sys.close();
    };
    cycle(); // warm up lazily created runtime state
    const fds = fdCount();
    const [kvm, huge, live] = [kvmMaps(), hugeMaps(), HostMapping.liveCount];
    for (let i = 0; i < 5; i++) cycle();
    expect([fdCount(), kvmMaps(), hugeMaps(), HostMapping.liveCount]).toEqual([fds, kvm, huge, live]);
    // The measures see a leak: an open VM holds fds and mappings until closed.
    const sys = KvmSystem.open();
    const vm = sys.createVm();
    vm.mapAnonymous(64n << 30n);
    vm.createVcpu(0);
    expect([fdCount(), kvmMaps(), hugeMaps(), HostMapping.liveCount]).toEqual([fds + 3, kvm + 1, huge + 1, live + 2]);
    sys.close();
    expect([fdCount(), kvmMaps(), hugeMaps(), HostMapping.liveCount]).toEqual([fds, kvm, huge, live]);
  });
});
