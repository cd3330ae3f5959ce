import { createHypervisor, definePlugin } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import { KVM_REG_ARM_PSCI_VERSION, KVM_REG_ARM_VENDOR_HYP_BMAP, psciAcpiInit, psciDtInit } from '../src/index.js';
import { ALL_ONES, errno, mk } from './helpers.js';

const dt = (compatible: string, method?: string) => [{ compatible: [compatible], method }];

describe('guest PSCI conduit discovery (drivers/firmware/psci/psci.c)', () => {
  it('DT "arm,psci-1.0" method "hvc": conduit hvc, SMCCC 1.1, KVM services detected with the log line', () => {
    const { vcpu } = mk();
    const g = psciDtInit(vcpu, dt('arm,psci-1.0', 'hvc'));
    expect(g.firmware.getConduit()).toBe('hvc');
    expect(g.firmware.smccc11GetConduit()).toBe('hvc');
    expect(g.firmware.smcccVersion).toBe(0x10001);
    expect(g.hypServices.bitmap).toBe(0x3n);
    expect(g.hypServices.available(1)).toBe(true);
    expect(g.hypServices.available(128)).toBe(false);
    expect(g.log).toContain('smccc: KVM: hypervisor services detected (0x00000000 0x00000000 0x00000000 0x00000003)');
  });
  it('DT method "smc" works through SMC #0 on a ≥v6.4 host', () => {
    const g = psciDtInit(mk().vcpu, dt('arm,psci-0.2', 'smc'));
    expect(g.firmware.smccc11GetConduit()).toBe('smc');
    expect(g.hypServices.available(1)).toBe(true);
  });
  it('missing node → ENODEV, disabled node → ENODEV, missing method → ENXIO, other method → EINVAL', () => {
    const { vcpu } = mk();
    expect(errno(() => psciDtInit(vcpu, []))).toBe('ENODEV');
    expect(errno(() => psciDtInit(vcpu, [{ compatible: ['arm,psci-1.0'], method: 'hvc', status: 'disabled' }]))).toBe('ENODEV');
    expect(errno(() => psciDtInit(vcpu, dt('arm,psci-1.0')))).toBe('ENXIO');
    expect(errno(() => psciDtInit(vcpu, dt('arm,psci-1.0', 'svc')))).toBe('EINVAL');
  });
  it('"arm,psci" (0.1 binding) is never probed: conduit hvc for PSCI but SMCCC stays 1.0 and no service is found', () => {
    const { vcpu } = mk();
    const g = psciDtInit(vcpu, dt('arm,psci', 'hvc'));
    expect(g.firmware.getConduit()).toBe('hvc');
    expect(g.firmware.smccc11GetConduit()).toBe('none');
    expect(g.hypServices.bitmap).toBe(0n);
    expect(vcpu.stats.exits.hvc ?? 0).toBe(0);
  });
  it('ACPI: PSCI_COMPLIANT|PSCI_USE_HVC → hvc; PSCI_COMPLIANT only → smc; not compliant → EOPNOTSUPP', () => {
    expect(psciAcpiInit(mk().vcpu, 3).firmware.getConduit()).toBe('hvc');
    expect(psciAcpiInit(mk().vcpu, 1).firmware.getConduit()).toBe('smc');
    expect(errno(() => psciAcpiInit(mk().vcpu, 2))).toBe('EOPNOTSUPP');
  });
  it('case 14: firmware reports PSCI 0.2 → no SMCCC init → conduit NONE → invoke gives -1 without a trap', () => {
    const { vcpu } = mk();
    vcpu.setOneReg(KVM_REG_ARM_PSCI_VERSION, 2n);
    const g = psciDtInit(vcpu, dt('arm,psci-1.0', 'hvc'));
    expect(g.firmware.smccc11GetConduit()).toBe('none');
    const traps = g.firmware.stats.traps;
    expect(g.firmware.smccc11Invoke([0x86000001n])).toEqual([ALL_ONES, 0n, 0n, 0n]);
    expect(g.firmware.stats.traps).toBe(traps);
    expect(g.hypServices.available(1)).toBe(false);
  });
  it('case 15: PSCI_FEATURES(SMCCC_VERSION) = -1 → smccc_version stays 1.0 → conduit NONE', () => {
    // A firmware (not KVM's) that implements PSCI 1.0 but not SMCCC_VERSION.
    const fw = definePlugin({
      name: 'other-firmware',
      arch: 'arm64',
      setup(ctx) {
        ctx.smccc(0x84000000, () => [0x10000n, 0n, 0n, 0n]);
        ctx.smccc(0x8400000a, () => [ALL_ONES, 0n, 0n, 0n]);
      },
    });
    const vcpu = createHypervisor({ arch: 'arm64', plugins: [fw] }).createVm().createVcpu(0);
    const g = psciDtInit(vcpu, dt('arm,psci-1.0', 'hvc'));
    expect(g.firmware.smcccVersion).toBe(0x10000);
    expect(g.firmware.smccc11GetConduit()).toBe('none');
    expect(g.hypServices.available(1)).toBe(false);
  });
  it('case 10: bmap 0 → CALL_UID -1 → has_uuid false → every service unavailable', () => {
    const { vcpu } = mk();
    vcpu.setOneReg(KVM_REG_ARM_VENDOR_HYP_BMAP, 0n);
    const g = psciDtInit(vcpu, dt('arm,psci-1.0', 'hvc'));
    expect(g.hypServices.bitmap).toBe(0n);
  });
  it('case 16: a 6.16-rc host sends x0=0x28b46fb6, x1=0x11e92ec5 → no UUID match → no services; the fixed host matches', () => {
    const bad = mk({ uid: '6.16-rc' }).vcpu;
    expect(bad.hvc([0x8600ff01n]).slice(0, 2)).toEqual([0x28b46fb6n, 0x11e92ec5n]);
    expect(psciDtInit(bad, dt('arm,psci-1.0', 'hvc')).hypServices.available(1)).toBe(false);
    expect(psciDtInit(mk().vcpu, dt('arm,psci-1.0', 'hvc')).hypServices.available(1)).toBe(true);
  });
  it('case 16 on a ≤6.15 guest (HVC-only word compare): the 6.16-rc UID fails, the KVM UID matches', () => {
    expect(psciDtInit(mk({ uid: '6.16-rc' }).vcpu, dt('arm,psci-1.0', 'hvc'), { kernel: 'v5.13' }).hypServices.available(1)).toBe(false);
    expect(psciDtInit(mk().vcpu, dt('arm,psci-1.0', 'hvc'), { kernel: 'v5.13' }).hypServices.available(1)).toBe(true);
  });
  it('v5.13–v6.15 and v6.16 as released (13423063c7cb) require the HVC conduit; the later both-conduits change (the default) finds the services over SMC', () => {
    expect(psciDtInit(mk().vcpu, dt('arm,psci-1.0', 'smc'), { kernel: 'v5.13' }).hypServices.bitmap).toBe(0n);
    const v616 = psciDtInit(mk().vcpu, dt('arm,psci-1.0', 'smc'), { kernel: 'v6.16' });
    expect([v616.hypServices.bitmap, v616.firmware.stats.traps]).toEqual([0n, 3]); // PSCI_VERSION, PSCI_FEATURES, SMCCC_VERSION: no CALL_UID
    expect(psciDtInit(mk().vcpu, dt('arm,psci-1.0', 'hvc'), { kernel: 'v6.16' }).hypServices.bitmap).toBe(0x3n);
    expect(psciDtInit(mk().vcpu, dt('arm,psci-1.0', 'smc')).hypServices.bitmap).toBe(0x3n);
    expect(psciDtInit(mk().vcpu, dt('arm,psci-1.0', 'smc'), { kernel: 'both-conduits' }).hypServices.bitmap).toBe(0x3n);
  });
  it('v6.16 compares bytes: the 6.16-rc swapped UID fails over HVC too', () => {
    expect(psciDtInit(mk({ uid: '6.16-rc' }).vcpu, dt('arm,psci-1.0', 'hvc'), { kernel: 'v6.16' }).hypServices.bitmap).toBe(0n);
  });
  it('case 20: FEATURES denied (-1) but UID allowed → the guest reads services 0–31 as present (no -1 check)', () => {
    // Stands in for a VMM SMCCC filter that denies only KVM_FEATURES (not modelled by psci-conduit).
    const fw = definePlugin({
      name: 'filtered-firmware',
      arch: 'arm64',
      setup(ctx) {
        ctx.smccc(0x84000000, () => [0x10001n, 0n, 0n, 0n]);
        ctx.smccc(0x8400000a, () => [0n, 0n, 0n, 0n]);
        ctx.smccc(0x80000000, () => [0x10001n, 0n, 0n, 0n]);
        ctx.smccc(0x8600ff01, () => [0xb66fb428n, 0xe911c52en, 0x564bcaa9n, 0x743a004dn]);
        ctx.smccc(0x86000000, () => [ALL_ONES, 0n, 0n, 0n]);
      },
    });
    const vcpu = createHypervisor({ arch: 'arm64', plugins: [fw] }).createVm().createVcpu(0);
    const g = psciDtInit(vcpu, dt('arm,psci-1.0', 'hvc'));
    expect(g.hypServices.bitmap).toBe(0xffffffffn);
    expect(g.hypServices.available(1)).toBe(true);
    expect(g.hypServices.available(32)).toBe(false);
  });
});
