// The arm64 host eras as records (issue 22, mutation testing): each field is a fact of the
// kernel it names, and each is checked twice — as the record, and as the behaviour a VM on
// that host shows. Sources: virt/kvm/arm/psci.c of the kvm/hvc base the RFC v4 names (u32
// val[4], FEATURES = BIT(0)); 3bf725699bf6 (5.13, ptp_kvm: u64 val[4], BIT(0) | BIT(PTP));
// 05714cab7d63 / b22216e1a617 (5.19, the firmware bitmap registers); c2d2e9b3d8ce and
// 821d935c87bc (6.4, SMC #0 from EL1 and the userspace SMCCC filter).
import { createHypervisor } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import {
  ARM_HOST_PROFILES,
  armHostProfileFor,
  KVM_ARM_VM_SMCCC_CTRL,
  KVM_ARM_VM_SMCCC_FILTER,
  KVM_REG_ARM_VENDOR_HYP_BMAP,
  psciConduit,
  VENDOR_HYP_REGISTRY,
  type ArmHostProfileName,
  type PsciConduitHost,
} from '../src/index.js';
import { ALL_ONES, errno, fakePtp } from './helpers.js';

const FACTS = {
  'rfc-v4-base': { features: 'func-feat-only', bitmapRegister: false, smc: 'refuse', returnWidth: 32, smcccFilter: false },
  'v5.13': { features: 'constant', bitmapRegister: false, smc: 'refuse', returnWidth: 64, smcccFilter: false },
  'v5.19': { features: 'bitmap', bitmapRegister: true, smc: 'refuse', returnWidth: 64, smcccFilter: false },
  'v6.4': { features: 'bitmap', bitmapRegister: true, smc: 'imm0-like-hvc', returnWidth: 64, smcccFilter: true },
} as const;

const on = (host: ArmHostProfileName) => {
  const hv = createHypervisor({ arch: 'arm64', seed: 1, plugins: [psciConduit({ host }), fakePtp()] });
  const vm = hv.createVm();
  return { vm, vcpu: vm.createVcpu(0), host: hv.decoration<PsciConduitHost>(VENDOR_HYP_REGISTRY)! };
};

describe('ARM_HOST_PROFILES', () => {
  it.each(Object.keys(FACTS) as ArmHostProfileName[])('%s is the record of its kernel', (name) => {
    expect(ARM_HOST_PROFILES[name]).toEqual({ name, ...FACTS[name] });
  });

  it.each(Object.keys(FACTS) as ArmHostProfileName[])('%s behaves as its record says', (name) => {
    const f = FACTS[name];
    const { vm, vcpu, host } = on(name);
    expect(host.profile.name).toBe(name);
    // (Before any call: the filter cannot change once the VM has run.)
    const attr = { group: KVM_ARM_VM_SMCCC_CTRL, attr: KVM_ARM_VM_SMCCC_FILTER, filter: { base: 0x86000100, nrFunctions: 1, action: 1 } };
    expect(errno(() => host.setVmAttr(vm, attr))).toBe(f.smcccFilter ? 'ok' : 'EINVAL');
    // KVM_FEATURES: BIT(0), the compiled-in services, or the VM's bitmap (here all services on).
    expect(vcpu.hvc([0x86000000n])[0]).toBe(f.features === 'func-feat-only' ? 1n : 3n);
    expect(errno(() => vcpu.getOneReg(KVM_REG_ARM_VENDOR_HYP_BMAP))).toBe(f.bitmapRegister ? 'ok' : 'ENOENT');
    // An SMC #0 to the service: refused with x0 = ~0, or handled like HVC.
    expect(vcpu.smc([0x86000001n], 0)[0]).toBe(f.smc === 'refuse' ? ALL_ONES : 0x1234n);
    // NOT_SUPPORTED from kvm_hvc_call_handler(): 32 or 64 bits of ones.
    expect(vcpu.hvc([0x80000001n, 0x86000001n])[0]).toBe(f.returnWidth === 32 ? 0xffff_ffffn : ALL_ONES);
  });
});

describe('armHostProfileFor', () => {
  const kernelOf = (release?: string) => createHypervisor({ arch: 'arm64', ...(release !== undefined ? { kernel: release } : {}) }).kernelInfo;
  it.each([
    ['5.3', 'rfc-v4-base'],
    ['5.12.19', 'rfc-v4-base'],
    ['5.13', 'v5.13'],
    ['5.18', 'v5.13'],
    ['5.19', 'v5.19'],
    ['6.3.13', 'v5.19'],
    ['6.4', 'v6.4'],
    ['6.10', 'v6.4'],
  ])('Linux %s → %s', (release, name) => {
    expect(armHostProfileFor(kernelOf(release)).name).toBe(name);
  });
  it('no kernel version: today\'s host', () => {
    expect(armHostProfileFor(kernelOf()).name).toBe('v6.4');
  });
});
