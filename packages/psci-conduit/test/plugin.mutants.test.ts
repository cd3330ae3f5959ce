// psciConduit() options and firmware registers at their edges (issue 22, mutation testing).
// Rules: kvm_arm_set_fw_reg() (KVM_REG_ARM_PSCI_VERSION: 0.2, 1.0, 1.1 with the PSCI_0_2 vCPU
// feature, 0.1 without; arch/arm64/kvm/hypercalls.c), kvm_vm_set_attr() (6.4), handle_smc().
import { createHypervisor } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import {
  KVM_ARM_PSCI_0_1,
  KVM_ARM_PSCI_0_2,
  KVM_ARM_PSCI_1_0,
  KVM_ARM_PSCI_1_1,
  KVM_ARM_VM_SMCCC_CTRL,
  KVM_ARM_VM_SMCCC_FILTER,
  KVM_REG_ARM_PSCI_VERSION,
  KVM_REG_ARM_VENDOR_HYP_BMAP,
  psciConduit,
  VENDOR_HYP_REGISTRY,
  type PsciConduitHost,
  type PsciConduitOptions,
} from '../src/index.js';
import { ALL_ONES, errno, fakePtp } from './helpers.js';

function mk(opts: PsciConduitOptions = {}, kernel?: string) {
  const hv = createHypervisor({ arch: 'arm64', seed: 1, ...(kernel !== undefined ? { kernel } : {}), plugins: [psciConduit(opts), fakePtp()] });
  const vm = hv.createVm();
  const vcpu = vm.createVcpu(0);
  return { hv, vm, vcpu, host: hv.decoration<PsciConduitHost>(VENDOR_HYP_REGISTRY)! };
}
const PSCI_VERSION = 0x84000000n;
const PSCI_FEATURES = 0x8400000an;

describe('KVM_REG_ARM_PSCI_VERSION', () => {
  it('with PSCI_0_2: 0.2, 1.0 and 1.1 are accepted, and PSCI_VERSION answers what was set', () => {
    const { vcpu, host, vm } = mk();
    for (const v of [KVM_ARM_PSCI_0_2, KVM_ARM_PSCI_1_0, KVM_ARM_PSCI_1_1]) {
      expect(errno(() => vcpu.setOneReg(KVM_REG_ARM_PSCI_VERSION, BigInt(v)))).toBe('ok');
      expect(vcpu.getOneReg(KVM_REG_ARM_PSCI_VERSION)).toBe(BigInt(v));
      expect(host.psciVersion(vm)).toBe(v);
    }
    expect(vcpu.hvc([PSCI_VERSION])[0]).toBe(BigInt(KVM_ARM_PSCI_1_1));
  });

  it('0.1 with PSCI_0_2, unknown versions and values above 32 bits are EINVAL and change nothing', () => {
    const { vcpu } = mk();
    for (const v of [BigInt(KVM_ARM_PSCI_0_1), 0x10002n, (1n << 32n) | BigInt(KVM_ARM_PSCI_1_0)]) {
      expect(errno(() => vcpu.setOneReg(KVM_REG_ARM_PSCI_VERSION, v)), `0x${v.toString(16)}`).toBe('EINVAL');
    }
    expect(vcpu.getOneReg(KVM_REG_ARM_PSCI_VERSION)).toBe(BigInt(KVM_ARM_PSCI_1_1));
  });

  it('without PSCI_0_2 only 0.1 is accepted', () => {
    const { vcpu } = mk({ psci02: false });
    expect(vcpu.getOneReg(KVM_REG_ARM_PSCI_VERSION)).toBe(BigInt(KVM_ARM_PSCI_0_1));
    expect(errno(() => vcpu.setOneReg(KVM_REG_ARM_PSCI_VERSION, BigInt(KVM_ARM_PSCI_0_1)))).toBe('ok');
    expect(errno(() => vcpu.setOneReg(KVM_REG_ARM_PSCI_VERSION, BigInt(KVM_ARM_PSCI_1_0)))).toBe('EINVAL');
  });

  it('PSCI_FEATURES answers from PSCI 1.0 on: PSCI_VERSION, PSCI_FEATURES, SMCCC_VERSION are 0, anything else -1', () => {
    const { vcpu } = mk();
    vcpu.setOneReg(KVM_REG_ARM_PSCI_VERSION, BigInt(KVM_ARM_PSCI_1_0));
    expect([PSCI_VERSION, PSCI_FEATURES, 0x80000000n, 0x84000001n].map((f) => vcpu.hvc([PSCI_FEATURES, f])[0])).toEqual([0n, 0n, 0n, ALL_ONES]);
    vcpu.setOneReg(KVM_REG_ARM_PSCI_VERSION, BigInt(KVM_ARM_PSCI_0_2));
    expect(vcpu.hvc([PSCI_FEATURES, PSCI_VERSION])[0]).toBe(ALL_ONES);
  });
});

describe('options', () => {
  it("uid '6.16-rc' answers the byte-swapped UUID of the regression", () => {
    const words = mk({ uid: '6.16-rc' }).vcpu.hvc([0x8600ff01n]);
    expect(words).not.toEqual(mk().vcpu.hvc([0x8600ff01n]));
    expect(words[0]).toBe(0x28b46fb6n); // b66fb428 read little-endian from the swapped bytes
  });

  it("smcFromGuest overrides the era: 'v6.4' on a 5.19 host handles smc #0, 'pre-v6.4' on today's refuses it", () => {
    expect(mk({ smcFromGuest: 'v6.4' }, '5.19').vcpu.smc([0x86000001n], 0)[0]).toBe(0x1234n);
    expect(mk({}, '5.19').vcpu.smc([0x86000001n], 0)[0]).toBe(ALL_ONES);
    expect(mk({ smcFromGuest: 'pre-v6.4' }).vcpu.smc([0x86000001n], 0)[0]).toBe(ALL_ONES);
    expect(mk().vcpu.smc([0x86000001n], 0)[0]).toBe(0x1234n);
  });

  it('host option picks the era whatever the kernel', () => {
    expect(mk({ host: 'v5.13' }).host.profile.name).toBe('v5.13');
    expect(mk({ host: 'rfc-v4-base' }).vcpu.hvc([0x86000000n])).toEqual([1n, 0n, 0n, 0n]);
    expect(mk({ host: 'v5.13' }).vcpu.hvc([0x86000000n])).toEqual([3n, 0n, 0n, 0n]);
  });

  it("the registry's bitmap is the VM's bmap from 5.19 on, the compiled-in services before", () => {
    const today = mk();
    today.vcpu.setOneReg(KVM_REG_ARM_VENDOR_HYP_BMAP, 1n);
    expect(today.host.bitmap(today.vm)).toBe(1n);
    const old = mk({ host: 'v5.13' });
    expect(old.host.bitmap(old.vm)).toBe(3n);
  });
});

describe('KVM_SET_DEVICE_ATTR on the VM fd (6.4+)', () => {
  it('no filter at addr is EFAULT; a wrong attribute ENXIO; before 6.4 EINVAL', () => {
    const { host, vm } = mk();
    expect(errno(() => host.setVmAttr(vm, { group: KVM_ARM_VM_SMCCC_CTRL, attr: KVM_ARM_VM_SMCCC_FILTER }))).toBe('EFAULT');
    expect(errno(() => host.setVmAttr(vm, { group: KVM_ARM_VM_SMCCC_CTRL, attr: 1 }))).toBe('ENXIO');
    const old = mk({}, '6.3');
    expect(errno(() => old.host.setVmAttr(old.vm, { group: KVM_ARM_VM_SMCCC_CTRL, attr: KVM_ARM_VM_SMCCC_FILTER, filter: { base: 0x86000000, nrFunctions: 1, action: 1 } }))).toBe('EINVAL');
  });
});
