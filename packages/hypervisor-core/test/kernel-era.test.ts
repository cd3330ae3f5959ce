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
    expect(KERNEL_ERAS['5.4']).toMatchObject({ userMemSlots: 509, nrVcpus: 240, maxVcpus: 288, maxVcpuId: 288, addressSpaces: 2 });
    expect(KERNEL_ERAS['6.18']).toMatchObject({ userMemSlots: 32764, maxVcpus: 1024, maxVcpuId: 4096 });
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
});
