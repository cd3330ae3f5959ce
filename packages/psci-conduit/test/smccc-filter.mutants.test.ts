// The userspace SMCCC filter at its edges (issue 22, mutation testing). Rules:
// kvm_smccc_set_filter(), kvm_init_smccc_filter() and kvm_smccc_filter_get_action() in
// arch/arm64/kvm/hypercalls.c (6.4): u32 range arithmetic, pad zero, action < 3, EBUSY once the
// VM ran, EEXIST on any overlap (the two Arm-architecture ranges are reserved from the start).
import { isKvmError, type Vm } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import {
  KVM_SMCCC_FILTER_DENY,
  KVM_SMCCC_FILTER_FWD_TO_USER,
  KVM_SMCCC_FILTER_HANDLE,
  SmcccFilters,
  type KvmSmcccFilter,
} from '../src/host/smccc-filter.js';

/** The filter only reads `hasRun` of a VM. */
const fakeVm = (hasRun = false): Vm => ({ hasRun }) as unknown as Vm;
const errno = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return isKvmError(e) ? e.errno : `other: ${String(e)}`;
  }
};
const f = (base: number, nrFunctions: number, action: number = KVM_SMCCC_FILTER_DENY, pad?: number[]): KvmSmcccFilter =>
  pad === undefined ? { base, nrFunctions, action } : { base, nrFunctions, action, pad };

describe('SmcccFilters.set', () => {
  it('pad must be all zero', () => {
    const s = new SmcccFilters();
    expect(errno(() => s.set(fakeVm(), f(0x86000000, 1, KVM_SMCCC_FILTER_DENY, [0, 0, 0])))).toBe('ok');
    expect(errno(() => s.set(fakeVm(), f(0x86000000, 1, KVM_SMCCC_FILTER_DENY, [0, 0, 7])))).toBe('EINVAL');
  });

  it('the range is [base, base + n - 1] in u32: empty or wrapping ranges are EINVAL, one reaching 0xffffffff is fine', () => {
    const s = new SmcccFilters();
    const vm = fakeVm();
    expect(errno(() => s.set(vm, f(0x1000, 0)))).toBe('EINVAL');
    expect(errno(() => s.set(vm, f(0xffff_ffff, 2)))).toBe('EINVAL');
    expect(errno(() => s.set(vm, f(0xffff_fff0, 16)))).toBe('ok');
    expect(s.action(vm, 0xffff_ffff)).toBe(KVM_SMCCC_FILTER_DENY);
    expect(errno(() => s.set(vm, f(0x1000, 1)))).toBe('ok');
  });

  it('actions 0..2 only', () => {
    const s = new SmcccFilters();
    const vm = fakeVm();
    for (const [a, want] of [[0, 'ok'], [2, 'ok'], [3, 'EINVAL'], [-1, 'EINVAL'], [1.5, 'EINVAL']] as const) {
      expect(errno(() => s.set(vm, f(0x2000 + Math.trunc(a + 1) * 0x10, 1, a))), `action ${a}`).toBe(want);
    }
  });

  it('after the VM ran: EBUSY, but a malformed filter is still EINVAL first', () => {
    const s = new SmcccFilters();
    expect(errno(() => s.set(fakeVm(true), f(0x86000000, 1)))).toBe('EBUSY');
    expect(errno(() => s.set(fakeVm(true), f(0x86000000, 1, 3)))).toBe('EINVAL');
  });

  it('the Arm-architecture ranges 0x80000000-0x8000ffff and 0xc0000000-0xc000ffff are taken; their neighbours are not', () => {
    const s = new SmcccFilters();
    const vm = fakeVm();
    expect(errno(() => s.set(vm, f(0x7fff_ffff, 2)))).toBe('EEXIST');
    expect(errno(() => s.set(vm, f(0x8000_ffff, 1)))).toBe('EEXIST');
    expect(errno(() => s.set(vm, f(0xbfff_fff0, 0x11)))).toBe('EEXIST');
    expect(errno(() => s.set(vm, f(0xc000_ffff, 1)))).toBe('EEXIST');
    expect(errno(() => s.set(vm, f(0x7fff_ffff, 1)))).toBe('ok');
    expect(errno(() => s.set(vm, f(0x8001_0000, 1)))).toBe('ok');
    expect(errno(() => s.set(vm, f(0xc001_0000, 1)))).toBe('ok');
    expect(s.action(vm, 0x8000_0000)).toBe(KVM_SMCCC_FILTER_HANDLE);
    expect(s.action(vm, 0xc000_8000)).toBe(KVM_SMCCC_FILTER_HANDLE);
  });

  it('user ranges may touch but not overlap; a refused range changes nothing', () => {
    const s = new SmcccFilters();
    const vm = fakeVm();
    s.set(vm, f(0x86000010, 0x10, KVM_SMCCC_FILTER_FWD_TO_USER)); // [0x10, 0x1f]
    expect(errno(() => s.set(vm, f(0x8600001f, 1)))).toBe('EEXIST');
    expect(errno(() => s.set(vm, f(0x86000000, 0x11)))).toBe('EEXIST');
    expect(errno(() => s.set(vm, f(0x86000000, 0x40)))).toBe('EEXIST');
    expect(s.action(vm, 0x86000000)).toBe(KVM_SMCCC_FILTER_HANDLE);
    expect(errno(() => s.set(vm, f(0x86000000, 0x10)))).toBe('ok');
    expect(errno(() => s.set(vm, f(0x86000020, 1)))).toBe('ok');
  });
});

describe('SmcccFilters.action (kvm_smccc_filter_get_action)', () => {
  it('HANDLE without a filter, else the action of the range holding the id, both ends included', () => {
    const s = new SmcccFilters();
    const vm = fakeVm();
    const other = fakeVm();
    expect(s.action(vm, 0x86000010)).toBe(KVM_SMCCC_FILTER_HANDLE);
    s.set(vm, f(0x86000010, 0x10, KVM_SMCCC_FILTER_FWD_TO_USER));
    const ids = [0x8600000f, 0x86000010, 0x86000018, 0x8600001f, 0x86000020];
    expect(ids.map((id) => s.action(vm, id))).toEqual([
      KVM_SMCCC_FILTER_HANDLE,
      KVM_SMCCC_FILTER_FWD_TO_USER,
      KVM_SMCCC_FILTER_FWD_TO_USER,
      KVM_SMCCC_FILTER_FWD_TO_USER,
      KVM_SMCCC_FILTER_HANDLE,
    ]);
    expect(s.action(other, 0x86000010)).toBe(KVM_SMCCC_FILTER_HANDLE);
  });
});

describe('errors name the argument at fault (KvmError.argument)', () => {
  it('pad, filter', () => {
    const s = new SmcccFilters();
    const arg = (fn: () => void) => {
      try {
        fn();
      } catch (e) {
        return isKvmError(e) ? `${e.errno} ${e.argument}` : String(e);
      }
      return 'ok';
    };
    expect(arg(() => s.set(fakeVm(), f(0x86000000, 1, 1, [1])))).toBe('EINVAL pad');
    expect(arg(() => s.set(fakeVm(), f(0x86000000, 0)))).toBe('EINVAL filter');
    expect(arg(() => s.set(fakeVm(true), f(0x86000000, 1)))).toBe('EBUSY filter');
    expect(arg(() => s.set(fakeVm(), f(0x80000000, 1)))).toBe('EEXIST filter');
  });
});
