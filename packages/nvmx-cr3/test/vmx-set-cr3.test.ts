/** Spec §9 cases 14–17 and §5: vmx_set_cr3() and the CR3 register cache, per variant. */
import { EPT_POINTER, GUEST_CR3 } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import { kvmMmuLoad, kvmMmuLoadCr3 } from '../src/host/mmu-roots.js';
import { afterHardwareExit, isCr3Available, kvmReadCr3, markCr3Available } from '../src/host/reg-cache.js';
import { vmxSetCr3 } from '../src/host/vmx-set-cr3.js';
import { type NvmxVariant, VMX_EPT_IDENTITY_PAGETABLE_ADDR } from '../src/index.js';
import { L1_CR3, makeNested } from './harness.js';

const ALL: readonly NvmxVariant[] = ['pre-fix', 'rfc-muen', 'merged'];
const post = (v: NvmxVariant): boolean => v === 'merged';

describe.each(ALL)('vmx_set_cr3 (%s)', (variant) => {
  it('case 14: called while in guest mode', () => {
    const { nv } = makeNested(variant);
    nv.vcpu.x86.guestMode = true;
    nv.loaded = nv.vmcs02;
    nv.cr3 = 0xb000n;
    markCr3Available(nv);
    nv.vmcs02.resetCounts();
    vmxSetCr3(nv, 0x7f000000n);
    expect(nv.vmcs02.countsOf(EPT_POINTER).vmwrites).toBe(1); // always written with EPT
    expect(nv.vmcs02.countsOf(GUEST_CR3).vmwrites).toBe(post(variant) ? 0 : 1);
    expect(nv.vmcs02.peek(GUEST_CR3)).toBe(post(variant) ? 0n : 0xb000n);
  });

  it('case 15: L1 mode, CR3 not available, direct vmx_set_cr3', () => {
    const { nv } = makeNested(variant);
    afterHardwareExit(nv);
    expect(isCr3Available(nv)).toBe(false);
    nv.vmcs01.resetCounts();
    vmxSetCr3(nv, 0x7e000000n);
    const c = nv.vmcs01.countsOf(GUEST_CR3);
    expect([c.vmreads, c.vmwrites]).toEqual(post(variant) ? [0, 0] : [1, 1]);
    expect(nv.vmcs01.peek(GUEST_CR3)).toBe(L1_CR3); // same value either way
  });

  it('case 16: through kvm_mmu_load_cr3 (PCID read first): 1 VMREAD + 1 VMWRITE in every variant', () => {
    const { nv } = makeNested(variant);
    afterHardwareExit(nv);
    nv.vmcs01.resetCounts();
    kvmMmuLoadCr3(nv);
    const c = nv.vmcs01.countsOf(GUEST_CR3);
    expect([c.vmreads, c.vmwrites]).toEqual([1, 1]);
    expect(nv.vmcs01.peek(GUEST_CR3)).toBe(L1_CR3);
  });

  it('case 17: L1 with !URG and paging off → GUEST_CR3 = ept_identity_map_addr', () => {
    const { nv, svc, vcpu } = makeNested(variant, { unrestrictedGuest: false });
    svc.setSregs(vcpu, { cr3: 0x5000n, paging: false });
    expect(nv.vmcs01.peek(GUEST_CR3)).toBe(VMX_EPT_IDENTITY_PAGETABLE_ADDR);
    expect(VMX_EPT_IDENTITY_PAGETABLE_ADDR).toBe(0xfffbc000n);
  });

  it('without EPT, GUEST_CR3 holds the shadow root, written on every load', () => {
    const { nv } = makeNested(variant, { enableEpt: false });
    nv.vmcs01.resetCounts();
    kvmMmuLoad(nv, nv.cr3);
    expect(nv.vmcs01.peek(GUEST_CR3)).toBe(nv.rootMmu.root?.hpa);
    expect(nv.vmcs01.countsOf(EPT_POINTER).vmwrites).toBe(0);
    expect(nv.vmcs01.countsOf(GUEST_CR3).vmreads).toBe(0); // no decache without EPT
  });
});

describe('register cache (spec §5)', () => {
  it('kvm_read_cr3 decaches from the loaded VMCS — vmcs02 right after the switch', () => {
    const { nv } = makeNested('pre-fix');
    nv.vmcs02.vmwrite(GUEST_CR3, 0xdead000n);
    afterHardwareExit(nv);
    nv.loaded = nv.vmcs02;
    nv.vcpu.x86.guestMode = true;
    expect(kvmReadCr3(nv)).toBe(0xdead000n);
    expect(isCr3Available(nv)).toBe(true);
    const before = nv.vmcs02.countsOf(GUEST_CR3).vmreads;
    kvmReadCr3(nv); // cached now: no second VMREAD
    expect(nv.vmcs02.countsOf(GUEST_CR3).vmreads).toBe(before);
  });
});
