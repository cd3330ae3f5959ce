import { CompositionError, createHypervisor } from '@kvmlab/hypervisor-core';
import { fc, test as ftest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  KVM_ARM_PSCI_0_2,
  KVM_ARM_PSCI_1_1,
  KVM_REG_ARM_PSCI_VERSION,
  KVM_REG_ARM_VENDOR_HYP_BMAP,
  psciConduit,
} from '../src/index.js';
import { ALL_ONES, errno, fakePtp, mk } from './helpers.js';

const runs = process.env.KVMLAB_SOAK ? 5000 : 200;

describe('KVM SMCCC handler (arch/arm64/kvm/hypercalls.c)', () => {
  it('case 1: HVC x0=0x80000000 → x0=0x10001', () => {
    expect(mk().vcpu.hvc([0x80000000n])[0]).toBe(0x10001n);
  });
  it('case 2: CALL_UID with bmap 0x3 → the KVM UID words', () => {
    expect(mk().vcpu.hvc([0x8600ff01n])).toEqual([0xb66fb428n, 0xe911c52en, 0x564bcaa9n, 0x743a004dn]);
  });
  it('case 3: KVM_FEATURES with the default bmap → x0=0x3, x1..x3=0', () => {
    expect(mk().vcpu.hvc([0x86000000n])).toEqual([0x3n, 0n, 0n, 0n]);
  });
  it('without a PTP service installed the default bmap lacks bit 1', () => {
    const { vcpu } = mk({}, []);
    expect(vcpu.hvc([0x86000000n])[0]).toBe(0x1n);
    expect(vcpu.getOneReg(KVM_REG_ARM_VENDOR_HYP_BMAP)).toBe(0x1n);
  });
  it('case 9: bmap 0x1 → FEATURES x0=0x1 and the bit-1 service is denied with -1', () => {
    const { vcpu } = mk();
    vcpu.setOneReg(KVM_REG_ARM_VENDOR_HYP_BMAP, 0x1n);
    expect(vcpu.hvc([0x86000000n])[0]).toBe(0x1n);
    expect(vcpu.hvc([0x86000001n])).toEqual([ALL_ONES, 0n, 0n, 0n]);
  });
  it('case 10: bmap 0x0 → CALL_UID answers -1', () => {
    const { vcpu } = mk();
    vcpu.setOneReg(KVM_REG_ARM_VENDOR_HYP_BMAP, 0n);
    expect(vcpu.hvc([0x8600ff01n])[0]).toBe(ALL_ONES);
    expect(vcpu.hvc([0x86000000n])[0]).toBe(ALL_ONES);
  });
  it('case 11: SET bmap 0x4 → EINVAL; after the first run 0x1 (was 0x3) → EBUSY, 0x3 → 0; state unchanged on failure', () => {
    const { vcpu } = mk();
    expect(errno(() => vcpu.setOneReg(KVM_REG_ARM_VENDOR_HYP_BMAP, 0x4n))).toBe('EINVAL');
    expect(vcpu.getOneReg(KVM_REG_ARM_VENDOR_HYP_BMAP)).toBe(0x3n);
    vcpu.hvc([0x80000000n]);
    expect(errno(() => vcpu.setOneReg(KVM_REG_ARM_VENDOR_HYP_BMAP, 0x1n))).toBe('EBUSY');
    expect(errno(() => vcpu.setOneReg(KVM_REG_ARM_VENDOR_HYP_BMAP, 0x3n))).toBe('ok');
    expect(vcpu.getOneReg(KVM_REG_ARM_VENDOR_HYP_BMAP)).toBe(0x3n);
  });
  it('case 12: ARCH_FEATURES(0x86000001) → -1 (vendor services are not discovered this way); WA1 → 0', () => {
    const { vcpu } = mk();
    expect(vcpu.hvc([0x80000001n, 0x86000001n])[0]).toBe(ALL_ONES);
    expect(vcpu.hvc([0x80000001n, 0x86000000n])[0]).toBe(ALL_ONES);
    expect(vcpu.hvc([0x80000001n, 0x80008000n])[0]).toBe(0n);
  });
  it('case 13 [≥v6.4]: smc #1 → -1; smc #0 is handled like HVC; HVC with any immediate is handled', () => {
    const { vcpu } = mk();
    expect(vcpu.smc([0x86000001n], 1)).toEqual([ALL_ONES, 0n, 0n, 0n]);
    expect(vcpu.smc([0x86000001n], 0)).toEqual(vcpu.hvc([0x86000001n]));
    expect(vcpu.hvc([0x80000000n], 0x1234)[0]).toBe(0x10001n);
  });
  it('case 13 [<v6.4]: every SMC → -1', () => {
    const { vcpu } = mk({ smcFromGuest: 'pre-v6.4' });
    expect(vcpu.smc([0x80000000n], 0)[0]).toBe(ALL_ONES);
    expect(vcpu.smc([0x86000001n], 0)[0]).toBe(ALL_ONES);
  });
  it('an unknown function id answers NOT_SUPPORTED as a 64-bit all-ones x0', () => {
    const { vcpu } = mk();
    expect(vcpu.hvc([0xc2000099n, 1n, 2n, 3n])).toEqual([ALL_ONES, 0n, 0n, 0n]);
  });
  it('PSCI_VERSION is 1.1 with the PSCI_0_2 vCPU feature and 0.2 after the VMM sets KVM_REG_ARM_PSCI_VERSION; PSCI_FEATURES(SMCCC_VERSION) is 0 only from 1.0', () => {
    const { vcpu } = mk();
    expect(vcpu.getOneReg(KVM_REG_ARM_PSCI_VERSION)).toBe(BigInt(KVM_ARM_PSCI_1_1));
    expect(vcpu.hvc([0x84000000n])[0]).toBe(0x10001n);
    expect(vcpu.hvc([0x8400000an, 0x80000000n])[0]).toBe(0n);
    expect(vcpu.hvc([0x8400000an, 0x84000008n])[0]).toBe(ALL_ONES);
    vcpu.setOneReg(KVM_REG_ARM_PSCI_VERSION, BigInt(KVM_ARM_PSCI_0_2));
    expect(vcpu.hvc([0x84000000n])[0]).toBe(2n);
    expect(vcpu.hvc([0x8400000an, 0x80000000n])[0]).toBe(ALL_ONES);
    expect(errno(() => vcpu.setOneReg(KVM_REG_ARM_PSCI_VERSION, 1n))).toBe('EINVAL');
    expect(vcpu.getOneReg(KVM_REG_ARM_PSCI_VERSION)).toBe(2n);
  });
  it('without the PSCI_0_2 feature the VM has PSCI 0.1, which has no PSCI_VERSION call', () => {
    const { vcpu } = mk({ psci02: false });
    expect(vcpu.getOneReg(KVM_REG_ARM_PSCI_VERSION)).toBe(1n);
    expect(vcpu.hvc([0x84000000n])[0]).toBe(ALL_ONES);
  });
  it('the latency option makes a trapped call take entry + exit virtual time', () => {
    const { hv, vcpu } = mk({ latency: { entry: { kind: 'fixed', ns: 700 }, exit: { kind: 'fixed', ns: 300 } } });
    const t0 = hv.sim.now;
    vcpu.hvc([0x80000000n]);
    expect(hv.sim.now - t0).toBe(1000n);
  });
  ftest.prop([fc.array(fc.bigInt({ min: 0n, max: ALL_ONES }), { minLength: 0, maxLength: 8 }), fc.integer({ min: 0, max: 0xffff }), fc.boolean()], { numRuns: runs })(
    'nothing a guest passes throws, and every reply is four u64 registers',
    (x, imm, smc) => {
      const { vcpu } = mk();
      const r = smc ? vcpu.smc(x, imm) : vcpu.hvc(x, imm);
      expect(r).toHaveLength(4);
      for (const v of r) expect(v >= 0n && v <= ALL_ONES).toBe(true);
    },
  );
});

describe('composition', () => {
  it('psci-conduit runs only on arm64', () => {
    expect(() => createHypervisor({ arch: 'x86_64', plugins: [psciConduit()] })).toThrow(CompositionError);
  });
  it('a vendor service needs psci-conduit installed', () => {
    try {
      createHypervisor({ arch: 'arm64', plugins: [fakePtp()] });
      expect.unreachable();
    } catch (e) {
      expect((e as CompositionError).code).toBe('MISSING_REQUIREMENT');
    }
  });
  it('two services on the same feature bit are a composition error', () => {
    const again = { ...fakePtp(), name: 'fake-ptp-2' };
    expect(() => createHypervisor({ arch: 'arm64', plugins: [psciConduit(), fakePtp(), again] })).toThrow(CompositionError);
  });
});
