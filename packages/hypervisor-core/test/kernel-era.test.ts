import { describe, expect, it } from 'vitest';
import {
  KVM_CAP_MAX_VCPU_ID,
  KVM_CAP_MAX_VCPUS,
  KVM_CAP_MULTI_ADDRESS_SPACE,
  KVM_CAP_NR_MEMSLOTS,
  KVM_CAP_NR_VCPUS,
} from '../src/constants.js';
import { isKvmError } from '../src/errors.js';
import { createHypervisor } from '../src/hypervisor.js';
import { KERNEL_ERAS } from '../src/kernel-era.js';

describe('kernel eras', () => {
  it('the era constants are the kernels\' values', () => {
    expect(KERNEL_ERAS['5.4']).toMatchObject({ userMemSlots: 509, nrVcpus: 240, maxVcpus: 288, maxVcpuId: 1023, addressSpaces: 2 }); // KVM_MAX_VCPU_ID 1023 (v5.4 kvm_host.h)
    expect(KERNEL_ERAS['6.18']).toMatchObject({ userMemSlots: 32764, maxVcpus: 1024, maxVcpuId: 4096, maxGpaBits: 52 });
    expect(KERNEL_ERAS['5.4'].maxGpaBits).toBeUndefined();
  });

  it('default is 5.4: capabilities and limits unchanged', () => {
    const hv = createHypervisor({ arch: 'x86_64' });
    expect(hv.checkExtension(KVM_CAP_NR_MEMSLOTS)).toBe(509);
    expect(hv.checkExtension(KVM_CAP_MULTI_ADDRESS_SPACE)).toBe(2);
    expect(hv.createVm().memslots.maxUserSlots).toBe(509);
  });

  it('6.18 with one address space: caps, slot ids and vCPU ids follow the era', () => {
    const hv = createHypervisor({ arch: 'x86_64', kernel: { ...KERNEL_ERAS['6.18'], addressSpaces: 1 } });
    expect(hv.checkExtension(KVM_CAP_NR_MEMSLOTS)).toBe(32764);
    expect(hv.checkExtension(KVM_CAP_NR_VCPUS)).toBe(2);
    expect(hv.checkExtension(KVM_CAP_MAX_VCPUS)).toBe(1024);
    expect(hv.checkExtension(KVM_CAP_MAX_VCPU_ID)).toBe(4096);
    expect(hv.checkExtension(KVM_CAP_MULTI_ADDRESS_SPACE)).toBe(0);
    const vm = hv.createVm();
    vm.setUserMemoryRegion({ slot: 32763, flags: 0, guestPhysAddr: 0n, memorySize: 4096n });
    let err: unknown;
    try {
      vm.setUserMemoryRegion({ slot: (1 << 16) | 1, flags: 0, guestPhysAddr: 0x10000n, memorySize: 4096n });
    } catch (e) {
      err = e;
    }
    expect(isKvmError(err, 'EINVAL')).toBe(true);
    expect(vm.createVcpu(4095).id).toBe(4095);
  });

  it('6.18: a created or moved slot must end below 2^maxGpaBits; 5.4 has no such check', () => {
    const vm = createHypervisor({ arch: 'x86_64', kernel: '6.18' }).createVm();
    vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: (1n << 52n) - 0x1000n, memorySize: 0x1000n });
    const refused = (gpa: bigint, slot: number): boolean => {
      try {
        vm.setUserMemoryRegion({ slot, flags: 0, guestPhysAddr: gpa, memorySize: 0x1000n });
        return false;
      } catch (e) {
        return isKvmError(e, 'EINVAL');
      }
    };
    expect(refused(1n << 52n, 1)).toBe(true);
    expect(refused(1n << 52n, 0)).toBe(true); // move
    expect(vm.memslots.get(0, 0)?.baseGfn).toBe((1n << 40n) - 1n);
    const old = createHypervisor({ arch: 'x86_64' }).createVm();
    old.setUserMemoryRegion({ slot: 1, flags: 0, guestPhysAddr: 1n << 52n, memorySize: 0x1000n });
    expect(old.memslots.list().length).toBe(1);
  });
});
