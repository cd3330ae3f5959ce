/** The nested VMX boundary: guest garbage never throws, VMX failures are status values. */
import { createHypervisor, EPT_POINTER, VMXERR_UNSUPPORTED_VMCS_COMPONENT, VMXERR_VMRESUME_NONLAUNCHED_VMCS } from '@kvmlab/hypervisor-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { l2Vmcall, vmlaunch, vmread, vmresume, vmwrite } from '../src/guest/vmx.js';
import { kvmMmuPml } from '../src/host/plugin.js';
import { rig } from './helpers.js';

describe('L1 VMX instructions at the boundary', () => {
  it('VMREAD/VMWRITE of an invalid field fail with error 12; VMRESUME before VMLAUNCH with error 5', () => {
    const r = rig('merged');
    expect(vmwrite(r.vcpu, 0x1002, 1n)).toEqual({ status: 'fail-valid', error: VMXERR_UNSUPPORTED_VMCS_COMPONENT });
    expect(vmread(r.vcpu, 0x8000)).toEqual({ status: 'fail-valid', error: VMXERR_UNSUPPORTED_VMCS_COMPONENT });
    expect(vmresume(r.vcpu)).toEqual({ status: 'fail-valid', error: VMXERR_VMRESUME_NONLAUNCHED_VMCS });
    expect(vmwrite(r.vcpu, EPT_POINTER, 0x1234n)).toEqual({ status: 'succeed', value: 0n });
    expect(vmread(r.vcpu, EPT_POINTER)).toMatchObject({ status: 'succeed', value: 0x1234n });
  });

  it('an EPTP12 with A/D when L0 has ept_ad off fails VM entry (invalid control field, 7)', () => {
    const r = rig('merged', { eptAd: false, eptp12Ad: true });
    expect(() => r.enterL2()).toThrow(/"error":7/);
    expect(r.vcpu.x86.guestMode).toBe(false);
  });

  it('without the plugin the instructions fail invalid, and L2’s VMCALL is not taken', () => {
    const vm = createHypervisor({ arch: 'x86_64' }).createVm();
    const vcpu = vm.createVcpu(0);
    expect(vmlaunch(vcpu)).toEqual({ status: 'fail-invalid' });
    expect(l2Vmcall(vcpu)).toBe(false);
  });

  it('an L2 access EPT12 does not map is L1’s EPT violation (reflected, exit reason 48 in vmcs12)', () => {
    const r = rig('merged');
    r.enterL2();
    r.write(0x5000_0000n);
    expect(r.vcpu.x86.guestMode).toBe(false);
    expect(vmread(r.vcpu, 0x4402)).toMatchObject({ value: 48n });
    expect(vmread(r.vcpu, 0x2400)).toMatchObject({ value: 0x5000_0000n });
  });

  it('random VMX instruction streams with garbage operands never throw', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: -5, max: 0x9000 }), fc.bigInt({ min: -(1n << 70n), max: 1n << 70n })), { maxLength: 30 }),
        (ops) => {
          const vm = createHypervisor({ arch: 'x86_64', plugins: [kvmMmuPml()] }).createVm();
          vm.setUserMemoryRegion({ slot: 0, flags: 1, guestPhysAddr: 0n, memorySize: 1n << 24n });
          const vcpu = vm.createVcpu(0);
          for (const [k, field, value] of ops) {
            if (k === 0) vmwrite(vcpu, field, value);
            else if (k === 1) vmread(vcpu, field);
            else if (k === 2) vmlaunch(vcpu);
            else if (k === 3) vmresume(vcpu);
            else if (k === 4) l2Vmcall(vcpu);
            else vcpu.write(BigInt.asUintN(40, value) & ~7n, new Uint8Array(8));
          }
          vm.getDirtyLog(0);
        },
      ),
      { numRuns: 100 },
    );
  });
});
