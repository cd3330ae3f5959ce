import { fc, test as ftest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  ARM_SMCCC_VENDOR_HYP_KVM_PTP_FUNC_ID,
  joinHiLo,
  KVM_CAP_PTP_KVM,
  KVM_PTP_PHYS_COUNTER,
  KVM_PTP_VIRT_COUNTER,
  splitHiLo,
} from '../src/index.js';
import { ALL_ONES, CASE4_HOST, mk } from './helpers.js';

const runs = process.env.KVMLAB_SOAK ? 20_000 : 500;

describe('constants', () => {
  it('PTP function id, counters and the capability are the kernel values', () => {
    expect(ARM_SMCCC_VENDOR_HYP_KVM_PTP_FUNC_ID).toBe(0x86000001);
    expect([KVM_PTP_VIRT_COUNTER, KVM_PTP_PHYS_COUNTER]).toEqual([0, 1]);
    expect(KVM_CAP_PTP_KVM).toBe(198);
  });
});

describe('hi/lo split (Documentation/virt/kvm/arm/ptp_kvm.rst)', () => {
  ftest.prop([fc.bigInt({ min: 0n, max: ALL_ONES })], { numRuns: runs })('the hi/lo split round-trips every 64-bit value', (v) => {
    const [hi, lo] = splitHiLo(v);
    expect(hi <= 0xffff_ffffn && lo <= 0xffff_ffffn).toBe(true);
    expect(joinHiLo(hi, lo)).toBe(v);
  });
  ftest.prop([fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n })], { numRuns: runs })('a signed ktime survives the split as its two’s complement', (v) => {
    const [hi, lo] = splitHiLo(v);
    expect(BigInt.asIntN(64, joinHiLo(hi, lo))).toBe(v);
  });
});

describe('kvm_ptp_get_time (merged)', () => {
  const setup = () => {
    const t = mk({ host: CASE4_HOST });
    t.vcpu.cntvoff = 0x1000_0000n;
    return t;
  };
  it('case 4: VIRT → x0=0x17979cfe, x1=0x3d85cd15, x2=0x123, x3=0x356789ab', () => {
    expect(setup().vcpu.hvc([0x86000001n, 0n])).toEqual([0x17979cfen, 0x3d85cd15n, 0x123n, 0x356789abn]);
  });
  it('case 5: PHYS with poffset 0 → x2=0x123, x3=0x456789ab', () => {
    const r = setup().vcpu.hvc([0x86000001n, 1n]);
    expect(r.slice(2)).toEqual([0x123n, 0x456789abn]);
    expect(r.slice(0, 2)).toEqual([0x17979cfen, 0x3d85cd15n]);
  });
  it('case 6: x1=2 → {-1, 0, 0, 0}', () => {
    expect(setup().vcpu.hvc([0x86000001n, 2n])).toEqual([ALL_ONES, 0n, 0n, 0n]);
  });
  it('case 7: x1=0x1_0000_0000 truncates to 0 → the VIRT answer', () => {
    expect(setup().vcpu.hvc([0x86000001n, 0x1_0000_0000n])).toEqual([0x17979cfen, 0x3d85cd15n, 0x123n, 0x356789abn]);
  });
  it('case 8: host clocksource hpet (not arch_sys_counter) → {-1, 0, 0, 0}', () => {
    const { vcpu } = mk({ host: { ...CASE4_HOST, clocksource: 'hpet' } });
    expect(vcpu.hvc([0x86000001n, 0n])).toEqual([ALL_ONES, 0n, 0n, 0n]);
  });
  it('the counter wraps as a u64 when voffset exceeds the count', () => {
    const { vcpu } = mk({ host: { ...CASE4_HOST, counterStart: 5n } });
    vcpu.cntvoff = 10n;
    const r = vcpu.hvc([0x86000001n, 0n]);
    expect(joinHiLo(r[2]!, r[3]!)).toBe(ALL_ONES - 4n);
  });
  it('SMC #0 reaches the same service (≥v6.4)', () => {
    expect(setup().vcpu.smc([0x86000001n, 0n], 0)).toEqual([0x17979cfen, 0x3d85cd15n, 0x123n, 0x356789abn]);
  });
});

describe('guest input never throws', () => {
  ftest.prop([fc.constantFrom('merged', 'rfc-v4'), fc.array(fc.bigInt({ min: 0n, max: ALL_ONES }), { maxLength: 6 }), fc.integer({ min: 0, max: 0xffff })], { numRuns: runs / 5 })(
    'any registers to the PTP id, on HVC or SMC, give four u64 registers',
    (variant, rest, imm) => {
      const { vcpu } = mk({ variant, host: CASE4_HOST });
      for (const r of [vcpu.hvc([0x86000001n, ...rest], imm), vcpu.smc([0x86000001n, ...rest], imm)]) {
        expect(r).toHaveLength(4);
        for (const v of r) expect(v >= 0n && v <= ALL_ONES).toBe(true);
      }
    },
  );
});

describe('RFC v4 host (virt/kvm/arm/psci.c, Sep 2019)', () => {
  it('subtracts cntvoff whatever x1 says and does not check the clocksource', () => {
    const { vcpu } = mk({ variant: 'rfc-v4', host: { ...CASE4_HOST, clocksource: 'hpet' } });
    vcpu.cntvoff = 0x1000_0000n;
    const want = [0x17979cfen, 0x3d85cd15n, 0x123n, 0x356789abn];
    expect(vcpu.hvc([0x86000001n, 0n])).toEqual(want);
    expect(vcpu.hvc([0x86000001n, 1n])).toEqual(want);
    expect(vcpu.hvc([0x86000001n, 7n])).toEqual(want);
  });
});

describe('case 36 and composition', () => {
  it('case 36: KVM_CHECK_EXTENSION(198) is 1 on arm64 (/dev/kvm and VM fd), 0 on x86', async () => {
    const { hv, vm } = mk();
    expect(hv.checkExtension(198)).toBe(1);
    expect(vm.checkExtension(198)).toBe(1);
    const { createHypervisor } = await import('@kvmlab/hypervisor-core');
    expect(createHypervisor({ arch: 'x86_64' }).checkExtension(198)).toBe(0);
  });
  it('the capability does not follow vendor_hyp_bmap', () => {
    const { vm, vcpu } = mk();
    vcpu.setOneReg(0x6030000000160002n, 0n);
    expect(vm.checkExtension(198)).toBe(1);
  });
  it('without ptp-kvm-arm64: KVM_CHECK_EXTENSION(198) = 0, FEATURES lacks bit 1, the PTP id answers -1', () => {
    const { hv, vm, vcpu } = mk({ ptp: false });
    expect(hv.checkExtension(198)).toBe(0);
    expect(vm.checkExtension(198)).toBe(0);
    expect(vcpu.hvc([0x86000000n])[0]).toBe(0x1n);
    expect(vcpu.hvc([0x86000001n, 0n])[0]).toBe(ALL_ONES);
  });
  it('ptp-kvm-arm64 requires psci-conduit and runs only on arm64', async () => {
    const { createHypervisor, CompositionError } = await import('@kvmlab/hypervisor-core');
    const { ptpKvmArm64 } = await import('../src/index.js');
    const { psciConduit } = await import('@kvmlab/psci-conduit');
    const code = (f: () => unknown) => {
      try {
        f();
        return 'ok';
      } catch (e) {
        return e instanceof CompositionError ? e.code : 'other';
      }
    };
    expect(code(() => createHypervisor({ arch: 'arm64', plugins: [ptpKvmArm64()] }))).toBe('MISSING_REQUIREMENT');
    expect(code(() => createHypervisor({ arch: 'x86_64', plugins: [psciConduit(), ptpKvmArm64()] }))).toBe('WRONG_ARCH');
    expect(code(() => createHypervisor({ arch: 'arm64', plugins: [ptpKvmArm64(), psciConduit()] }))).toBe('ok');
  });
});
