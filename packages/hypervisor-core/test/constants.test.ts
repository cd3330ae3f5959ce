import { describe, expect, it } from 'vitest';
import * as K from '../src/constants.js';
import { ERRNO } from '../src/errors.js';

describe('KVM ABI constants (include/uapi/linux/kvm.h, kvm_para.h, errno)', () => {
  it('capability numbers', () => {
    expect([K.KVM_CAP_USER_MEMORY, K.KVM_CAP_NR_VCPUS, K.KVM_CAP_NR_MEMSLOTS, K.KVM_CAP_SYNC_MMU, K.KVM_CAP_ENABLE_CAP, K.KVM_CAP_MAX_VCPUS])
      .toEqual([3, 9, 10, 16, 54, 66]);
    expect([K.KVM_CAP_ONE_REG, K.KVM_CAP_READONLY_MEM, K.KVM_CAP_ENABLE_CAP_VM, K.KVM_CAP_CHECK_EXTENSION_VM, K.KVM_CAP_MULTI_ADDRESS_SPACE])
      .toEqual([70, 81, 98, 105, 118]);
    expect([K.KVM_CAP_MAX_VCPU_ID, K.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT, K.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, K.KVM_CAP_EXIT_HYPERCALL])
      .toEqual([128, 166, 168, 201]);
  });
  it('memslot flags, limits and dirty-log options', () => {
    expect([K.KVM_MEM_LOG_DIRTY_PAGES, K.KVM_MEM_READONLY, K.KVM_USER_MEM_SLOTS, K.KVM_ADDRESS_SPACE_NUM]).toEqual([1, 2, 509, 2]);
    expect([K.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE, K.KVM_DIRTY_LOG_INITIALLY_SET, K.KVM_DIRTY_LOG_MANUAL_CAPS]).toEqual([1, 2, 3]);
    expect(K.KVMIO).toBe(0xae);
    expect(K.KVM_API_VERSION).toBe(12);
  });
  it('hypercall numbers and return codes', () => {
    expect([K.KVM_HC_VAPIC_POLL_IRQ, K.KVM_HC_KICK_CPU, K.KVM_HC_CLOCK_PAIRING, K.KVM_HC_SEND_IPI, K.KVM_HC_SCHED_YIELD, K.KVM_HC_MAP_GPA_RANGE])
      .toEqual([1, 5, 9, 10, 11, 12]);
    expect([K.KVM_ENOSYS, K.KVM_EFAULT, K.KVM_EINVAL, K.KVM_E2BIG, K.KVM_EPERM, K.KVM_EOPNOTSUPP]).toEqual([1000, 14, 22, 7, 1, 95]);
  });
  it('errno values (asm-generic/errno-base.h, errno.h)', () => {
    expect(ERRNO).toMatchObject({ EPERM: 1, ENOENT: 2, ENXIO: 6, E2BIG: 7, ENOMEM: 12, EFAULT: 14, EBUSY: 16, EEXIST: 17, ENODEV: 19, EINVAL: 22, ERANGE: 34, EOPNOTSUPP: 95 });
  });
});
