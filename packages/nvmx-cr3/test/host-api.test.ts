/** Host-side calls (the VMM's): bad arguments throw KvmError with the right errno and change nothing. */
import { createHypervisor, GUEST_CR3, isKvmError } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import { NVMX_SERVICE, nvmxCr3, type NvmxService } from '../src/index.js';
import { makeNested } from './harness.js';

describe('nvmx-cr3 host API', () => {
  it('raiseInterrupt: a non-external vector or a time in the past is EINVAL, nothing scheduled', () => {
    const { svc, vcpu, nv, hv } = makeNested('merged');
    expect(() => svc.raiseInterrupt(vcpu, 2, hv.sim.now + 10n)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    hv.sim.runFor(1000n);
    expect(() => svc.raiseInterrupt(vcpu, 0x30, 0n)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    expect(nv.scheduledIrqs).toHaveLength(0);
  });

  it('setSregs: a CR3 that is not a u64 is EINVAL; while L2 holds the vCPU it is EBUSY; state unchanged', () => {
    const { svc, vcpu, nv, l1 } = makeNested('merged');
    const cr3 = nv.cr3;
    expect(() => svc.setSregs(vcpu, { cr3: -1n })).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    expect(nv.cr3).toBe(cr3);
    l1.define('A', { cr3: 0xa000n, code: [{ op: 'hlt' }] });
    expect(l1.enter('A').hung).toBe(true);
    const v02 = nv.vmcs02.peek(GUEST_CR3);
    expect(() => svc.setSregs(vcpu, { cr3: 0x5000n })).toThrow(expect.objectContaining({ errno: 'EBUSY' }));
    expect(nv.vmcs02.peek(GUEST_CR3)).toBe(v02);
  });

  it('nested() of a vCPU from another hypervisor is EINVAL; the factory rejects unknown variants', () => {
    const { svc } = makeNested('merged');
    const other = createHypervisor({ arch: 'x86_64', plugins: [nvmxCr3()] }).createVm().createVcpu(0);
    try {
      svc.nested(other);
      expect.unreachable();
    } catch (e) {
      expect(isKvmError(e, 'EINVAL')).toBe(true);
    }
    expect(() => nvmxCr3({ variant: 'v3' as never })).toThrow(RangeError);
    expect(createHypervisor({ arch: 'x86_64', plugins: [nvmxCr3()] }).decoration<NvmxService>(NVMX_SERVICE)?.config.variant).toBe('merged');
  });

  it('installing it on arm64 is a composition error', () => {
    expect(() => createHypervisor({ arch: 'arm64', plugins: [nvmxCr3()] })).toThrow(/x86_64|arch/);
  });

  it('without EPT the unrestricted-guest knob is forced off (hardware_setup)', () => {
    const hv = createHypervisor({ arch: 'x86_64', plugins: [nvmxCr3({ enableEpt: false, unrestrictedGuest: true })] });
    expect(hv.decoration<NvmxService>(NVMX_SERVICE)?.config.unrestrictedGuest).toBe(false);
  });
});
