/** Host-side calls (the VMM's): bad arguments throw KvmError with the right errno and change nothing. */
import { CompositionError, createHypervisor, definePlugin, GUEST_CR3, isKvmError, type ErrnoName } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import { NVMX_SERVICE, nvmxCr3, type NvmxService } from '../src/index.js';
import { L1_CR3, makeNested } from './harness.js';

/** The errno a call fails with (undefined: it did not throw). */
function errnoOf(f: () => unknown): ErrnoName | string | undefined {
  try {
    f();
  } catch (e) {
    return isKvmError(e) ? e.errno : `not a KvmError: ${String(e)}`;
  }
  return undefined;
}

describe('nvmx-cr3 host API', () => {
  it('raiseInterrupt: a non-external vector or a time in the past is EINVAL, nothing scheduled', () => {
    const { svc, vcpu, nv, hv } = makeNested('merged');
    expect(errnoOf(() => svc.raiseInterrupt(vcpu, 2, hv.sim.now + 10n))).toBe('EINVAL');
    expect(errnoOf(() => svc.raiseInterrupt(vcpu, 256, hv.sim.now + 10n))).toBe('EINVAL');
    hv.sim.runFor(1000n);
    expect(errnoOf(() => svc.raiseInterrupt(vcpu, 0x30, 0n))).toBe('EINVAL');
    expect(nv.scheduledIrqs).toHaveLength(0);
    expect(nv.pendingIrqs).toHaveLength(0);
    // a valid one is scheduled (so the checks above are not vacuous)
    svc.raiseInterrupt(vcpu, 0x30, hv.sim.now + 10n);
    expect(nv.scheduledIrqs.map((s) => s.at)).toEqual([hv.sim.now + 10n]);
  });

  it('setSregs: a CR3 that is not a u64 is EINVAL; while L2 holds the vCPU it is EBUSY; state unchanged', () => {
    const { svc, vcpu, nv, l1 } = makeNested('merged');
    expect(vcpu.x86.cr3).toBe(L1_CR3);
    const v01 = nv.vmcs01.peek(GUEST_CR3);
    expect(errnoOf(() => svc.setSregs(vcpu, { cr3: -1n }))).toBe('EINVAL');
    expect(errnoOf(() => svc.setSregs(vcpu, { cr3: 1n << 64n }))).toBe('EINVAL');
    expect(errnoOf(() => svc.setSregs(vcpu, { cr3: 0x5000 as unknown as bigint }))).toBe('EINVAL');
    expect(vcpu.x86.cr3).toBe(L1_CR3);
    expect(nv.vmcs01.peek(GUEST_CR3)).toBe(v01);
    l1.define('A', { cr3: 0xa000n, code: [{ op: 'hlt' }] });
    expect(l1.enter('A').hung).toBe(true);
    const v02 = nv.vmcs02.peek(GUEST_CR3);
    const cr3 = vcpu.x86.cr3;
    expect(errnoOf(() => svc.setSregs(vcpu, { cr3: 0x5000n }))).toBe('EBUSY');
    expect(nv.vmcs02.peek(GUEST_CR3)).toBe(v02);
    expect(vcpu.x86.cr3).toBe(cr3);
    expect(vcpu.x86.guestMode).toBe(true);
    expect(nv.loaded).toBe(nv.vmcs02);
  });

  it('a valid setSregs takes effect in vmcs01 (so the rejections above are not vacuous)', () => {
    const { svc, vcpu, nv } = makeNested('merged');
    svc.setSregs(vcpu, { cr3: 0x5000n });
    expect(vcpu.x86.cr3).toBe(0x5000n);
    expect(nv.vmcs01.peek(GUEST_CR3)).toBe(0x5000n);
  });

  it('a vCPU from another hypervisor is EINVAL for nested(), setSregs() and raiseInterrupt(), and is left alone; the factory rejects unknown variants', () => {
    const { svc, hv } = makeNested('merged');
    const otherHv = createHypervisor({ arch: 'x86_64', plugins: [nvmxCr3({ variant: 'pre-fix' })] });
    const other = otherHv.createVm().createVcpu(0);
    const cr3 = other.x86.cr3;
    const pending = hv.sim.pending;
    expect(errnoOf(() => svc.nested(other))).toBe('EINVAL');
    expect(errnoOf(() => svc.setSregs(other, { cr3: 0x5000n }))).toBe('EINVAL');
    expect(errnoOf(() => svc.raiseInterrupt(other, 0x30, hv.sim.now + 10n))).toBe('EINVAL');
    expect(other.x86.cr3).toBe(cr3);
    expect(otherHv.nestedVmx?.state(other).scheduledIrqs).toHaveLength(0);
    expect(hv.sim.pending).toBe(pending);
    expect(() => nvmxCr3({ variant: 'v3' as never })).toThrow(RangeError);
    expect(createHypervisor({ arch: 'x86_64', plugins: [nvmxCr3()] }).decoration<NvmxService>(NVMX_SERVICE)?.config.variant).toBe('merged');
  });

  it('installing it on arm64 is a composition error', () => {
    expect(() => createHypervisor({ arch: 'arm64', plugins: [nvmxCr3()] })).toThrow(/x86_64|arch/);
  });

  it('without EPT the unrestricted-guest knob is forced off (hardware_setup)', () => {
    const hv = createHypervisor({ arch: 'x86_64', plugins: [nvmxCr3({ enableEpt: false, unrestrictedGuest: true })] });
    const config = hv.decoration<NvmxService>(NVMX_SERVICE)?.config;
    expect(config).toMatchObject({ variant: 'merged', enableEpt: false, unrestrictedGuest: false });
    expect(hv.nestedVmx?.params).toMatchObject({ ept: false, unrestrictedGuest: false });
  });

  it('composes with another nested-VMX plugin; a second owner of a GUEST_CR3 hook or a conflicting kvm_intel.ept is a composition error', () => {
    const mmu = definePlugin({ name: 'other-mmu', arch: 'x86_64', setup: (ctx) => void ctx.nestedVmx({ ops: { invept: () => undefined } }) });
    const hv = createHypervisor({ arch: 'x86_64', plugins: [nvmxCr3(), mmu] });
    expect(hv.nestedVmx?.opsOwners.get('invept')).toBe('other-mmu');
    expect(hv.nestedVmx?.opsOwners.get('prepareVmcs02Cr3')).toBe('nvmx-cr3');
    const rival = definePlugin({ name: 'rival', arch: 'x86_64', setup: (ctx) => void ctx.nestedVmx({ ops: { prepareVmcs02Cr3: () => undefined } }) });
    expect(() => createHypervisor({ arch: 'x86_64', plugins: [nvmxCr3(), rival] })).toThrow(CompositionError);
    expect(() => createHypervisor({ arch: 'x86_64', plugins: [nvmxCr3(), rival] })).toThrow(/nvmx-cr3/);
    // pre-fix fills no hook, so the rival may
    expect(() => createHypervisor({ arch: 'x86_64', plugins: [nvmxCr3({ variant: 'pre-fix' }), rival] })).not.toThrow();
    const noEpt = definePlugin({ name: 'no-ept', arch: 'x86_64', setup: (ctx) => void ctx.nestedVmx({ params: { ept: false } }) });
    expect(() => createHypervisor({ arch: 'x86_64', plugins: [nvmxCr3({ enableEpt: true }), noEpt] })).toThrow(CompositionError);
  });
});
