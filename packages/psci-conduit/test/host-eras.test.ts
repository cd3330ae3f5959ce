/**
 * The host each era answers as (host/host-profile.ts), against kvm_hvc_call_handler() of the
 * RFC v4 base (virt/kvm/arm/psci.c, u32 val[4]) and of 5.13, kvm_hvc_call_allowed() (5.19),
 * handle_smc() before and after c2d2e9b3d8ce (6.4), and kvm_smccc_set_filter() /
 * kvm_smccc_get_action() (6.4).
 */
import { createHypervisor, type Vm } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import {
  armHostProfileFor,
  KVM_ARM_VM_SMCCC_CTRL,
  KVM_ARM_VM_SMCCC_FILTER,
  KVM_HYPERCALL_EXIT_SMC,
  KVM_REG_ARM_VENDOR_HYP_BMAP,
  KVM_SMCCC_FILTER_DENY,
  KVM_SMCCC_FILTER_FWD_TO_USER,
  psciConduit,
  psciDtInit,
  VENDOR_HYP_REGISTRY,
  type KvmSmcccFilter,
  type PsciConduitHost,
} from '../src/index.js';
import { ALL_ONES, errno, fakePtp } from './helpers.js';

const on = (kernel?: string) => {
  const hv = createHypervisor({ arch: 'arm64', seed: 1, ...(kernel !== undefined ? { kernel } : {}), plugins: [psciConduit(), fakePtp()] });
  const vm = hv.createVm();
  const vcpu = vm.createVcpu(0);
  const host = hv.decoration<PsciConduitHost>(VENDOR_HYP_REGISTRY)!;
  const filter = (vmx: Vm, f: KvmSmcccFilter) => host.setVmAttr(vmx, { group: KVM_ARM_VM_SMCCC_CTRL, attr: KVM_ARM_VM_SMCCC_FILTER, filter: f });
  return { hv, vm, vcpu, host, filter };
};
const dt = [{ compatible: ['arm,psci-1.0'], method: 'hvc' }];

describe('which host a kernel gets', () => {
  it.each([['5.3', 'rfc-v4-base'], ['5.12', 'rfc-v4-base'], ['5.13', 'v5.13'], ['5.18.19', 'v5.13'], ['5.19', 'v5.19'], ['6.3', 'v5.19'], ['6.4', 'v6.4'], ['6.18', 'v6.4']])(
    'Linux %s answers as %s',
    (kernel, name) => expect(on(kernel).host.profile.name).toBe(name),
  );
  it('no kernel: today\'s host (v6.4 behaviour)', () => {
    expect(on().host.profile.name).toBe('v6.4');
    expect(armHostProfileFor({ version: null, release: createHypervisor({ arch: 'arm64' }).kernelInfo.release, backports: [] }).name).toBe('v6.4');
  });
});

describe('RFC v4 base (kvm/hvc on 5.3: u32 val[4], FEATURES = BIT(0))', () => {
  it('KVM_FEATURES answers BIT(0) only, though a bit-1 service is installed; there is no bitmap register', () => {
    const { vcpu } = on('5.3');
    expect(vcpu.hvc([0x86000000n])).toEqual([0x1n, 0n, 0n, 0n]);
    expect(errno(() => vcpu.getOneReg(KVM_REG_ARM_VENDOR_HYP_BMAP))).toBe('ENOENT');
    expect(psciDtInit(vcpu, dt).hypServices.available(1)).toBe(false); // a merged guest finds no PTP here
  });
  it('NOT_SUPPORTED from kvm_hvc_call_handler() is the 32-bit 0xffffffff: (long)a0 < 0 misses it, (int)a0 < 0 catches it; kvm_psci_call() stays 64-bit', () => {
    const { vcpu } = on('5.3');
    const x0 = vcpu.hvc([0x80000001n, 0x86000001n])[0]!; // ARCH_FEATURES(PTP id)
    expect(x0).toBe(0xffff_ffffn);
    expect(BigInt.asIntN(64, x0) < 0n).toBe(false);
    expect(BigInt.asIntN(32, x0) < 0n).toBe(true);
    expect(vcpu.hvc([0xc2000099n])[0]).toBe(ALL_ONES); // unknown id → kvm_psci_call(): unsigned long val
    expect(vcpu.hvc([0x8600ff01n])).toEqual([0xb66fb428n, 0xe911c52en, 0x564bcaa9n, 0x743a004dn]);
  });
});

describe('5.13 (FEATURES constant, no bitmap register, every SMC refused)', () => {
  it('KVM_FEATURES is BIT(0) | BIT(1); KVM_REG_ARM_VENDOR_HYP_BMAP does not exist (ENOENT), so nothing gates the service', () => {
    const { vcpu } = on('5.13');
    expect(vcpu.hvc([0x86000000n])).toEqual([0x3n, 0n, 0n, 0n]);
    expect(errno(() => vcpu.setOneReg(KVM_REG_ARM_VENDOR_HYP_BMAP, 0n))).toBe('ENOENT');
    expect(vcpu.hvc([0x86000001n])[0]).toBe(0x1234n);
  });
  it('handle_smc() before 6.4: every SMC gets x0 = ~0 and x1..x3 keep the guest\'s values', () => {
    const { vcpu } = on('5.13');
    expect(vcpu.smc([0x86000001n, 5n, 6n, 7n], 0)).toEqual([ALL_ONES, 5n, 6n, 7n]);
    expect(vcpu.smc([0x80000000n, 9n], 0)).toEqual([ALL_ONES, 9n, 6n, 7n]); // x2, x3 are the registers' previous values
  });
  it('no SMCCC filter before 6.4: KVM_SET_DEVICE_ATTR on the VM fd is EINVAL', () => {
    const { vm, filter } = on('6.3');
    expect(errno(() => filter(vm, { base: 0x86000000, nrFunctions: 1, action: KVM_SMCCC_FILTER_DENY }))).toBe('EINVAL');
  });
});

describe('5.19 (kvm_hvc_call_allowed): the bitmap gates UID, FEATURES and the service', () => {
  it('bit 1 clear denies the service with {-1, 0, 0, 0}; bit 0 clear denies UID and FEATURES; SMC is still refused', () => {
    const { vcpu } = on('5.19');
    vcpu.setOneReg(KVM_REG_ARM_VENDOR_HYP_BMAP, 0x1n);
    expect(vcpu.hvc([0x86000001n, 9n, 9n, 9n])).toEqual([ALL_ONES, 0n, 0n, 0n]);
    expect(vcpu.hvc([0x86000000n])[0]).toBe(0x1n);
    expect(vcpu.smc([0x86000000n, 9n], 0)).toEqual([ALL_ONES, 9n, 0n, 0n]);
    const other = on('5.19').vcpu;
    other.setOneReg(KVM_REG_ARM_VENDOR_HYP_BMAP, 0x2n);
    expect(other.hvc([0x8600ff01n])[0]).toBe(ALL_ONES);
    expect(other.hvc([0x86000001n])[0]).toBe(0x1234n);
  });
});

describe('6.4: SMC #0 like HVC, SMC #imm refused in x0 only, the SMCCC filter', () => {
  it('smc #1 writes only x0 (vcpu_set_reg(vcpu, 0, ~0UL)); smc #0 reaches the service', () => {
    const { vcpu } = on('6.4');
    expect(vcpu.smc([0x86000001n, 1n, 2n, 3n], 1)).toEqual([ALL_ONES, 1n, 2n, 3n]);
    expect(vcpu.smc([0x86000001n, 1n, 2n, 3n], 0)).toEqual([0x1234n, 0n, 0n, 0n]);
  });
  it('case 20 with a real filter: FEATURES denied, UID allowed → the guest reads services 0–31 as present (no -1 check)', () => {
    const { vm, vcpu, filter } = on('6.4');
    filter(vm, { base: 0x86000000, nrFunctions: 1, action: KVM_SMCCC_FILTER_DENY });
    expect(vcpu.hvc([0x86000000n, 4n])).toEqual([ALL_ONES, 0n, 0n, 0n]);
    const g = psciDtInit(vcpu, dt);
    expect(g.hypServices.bitmap).toBe(0xffff_ffffn);
    expect(g.hypServices.available(1)).toBe(true);
  });
  it('FWD_TO_USER: KVM_EXIT_HYPERCALL with nr = the function id and the SMC flag; the VMM\'s registers reach the guest; the filter wins over the bitmap', () => {
    const { vm, vcpu, host, filter } = on('6.4');
    filter(vm, { base: 0x86000001, nrFunctions: 1, action: KVM_SMCCC_FILTER_FWD_TO_USER });
    const seen: { nr: number; flags: number; x1: bigint }[] = [];
    host.onHypercallExit(vm, (e) => {
      seen.push({ nr: e.nr, flags: e.flags, x1: e.x[1]! });
      return [0n, 0xaan, 0xbbn, 0xccn];
    });
    vcpu.setOneReg(KVM_REG_ARM_VENDOR_HYP_BMAP, 0x1n); // would deny the service without the filter
    expect(vcpu.hvc([0x86000001n, 7n])).toEqual([0n, 0xaan, 0xbbn, 0xccn]);
    expect(vcpu.smc([0x86000001n, 8n], 0)).toEqual([0n, 0xaan, 0xbbn, 0xccn]);
    expect(seen).toEqual([{ nr: 0x86000001, flags: 0, x1: 7n }, { nr: 0x86000001, flags: KVM_HYPERCALL_EXIT_SMC, x1: 8n }]);
    expect(vcpu.stats.exits.hypercall).toBe(2);
  });
  it('without a VMM handler a forwarded call returns with the guest\'s registers untouched', () => {
    const { vm, vcpu, filter } = on('6.4');
    filter(vm, { base: 0xc6000000, nrFunctions: 0x100, action: KVM_SMCCC_FILTER_FWD_TO_USER });
    expect(vcpu.hvc([0xc6000010n, 1n, 2n, 3n])).toEqual([0xc6000010n, 1n, 2n, 3n]);
  });
  it('kvm_smccc_set_filter(): the arch ranges are reserved (EEXIST), overlaps EEXIST, pad/empty/bad action EINVAL, after the first run EBUSY — a failed call adds nothing', () => {
    const { vm, vcpu, host, filter } = on('6.4');
    expect(errno(() => filter(vm, { base: 0x80000000, nrFunctions: 1, action: KVM_SMCCC_FILTER_DENY }))).toBe('EEXIST');
    expect(errno(() => filter(vm, { base: 0xc000fff0, nrFunctions: 0x20, action: KVM_SMCCC_FILTER_DENY }))).toBe('EEXIST');
    expect(errno(() => filter(vm, { base: 0x86000000, nrFunctions: 2, action: KVM_SMCCC_FILTER_DENY, pad: [0, 1] }))).toBe('EINVAL');
    expect(errno(() => filter(vm, { base: 0x86000000, nrFunctions: 0, action: KVM_SMCCC_FILTER_DENY }))).toBe('EINVAL');
    expect(errno(() => filter(vm, { base: 0x86000000, nrFunctions: 1, action: 3 }))).toBe('EINVAL');
    expect(errno(() => host.setVmAttr(vm, { group: 1, attr: 0 }))).toBe('ENXIO');
    expect(errno(() => filter(vm, { base: 0x86000000, nrFunctions: 2, action: KVM_SMCCC_FILTER_DENY }))).toBe('ok');
    expect(errno(() => filter(vm, { base: 0x86000001, nrFunctions: 1, action: KVM_SMCCC_FILTER_FWD_TO_USER }))).toBe('EEXIST');
    expect(vcpu.hvc([0x80000000n])[0]).toBe(0x10001n); // the reserved range is still handled by KVM
    expect(errno(() => filter(vm, { base: 0x86001000, nrFunctions: 1, action: KVM_SMCCC_FILTER_DENY }))).toBe('EBUSY');
    expect(vcpu.hvc([0x86001000n])[0]).toBe(ALL_ONES);
    expect(vcpu.stats.exits.hypercall).toBeUndefined();
  });
});
