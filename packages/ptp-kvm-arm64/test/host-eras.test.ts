/**
 * kvm_ptp_get_time() on the host each variant ran on: the per-vCPU CNTVOFF of 5.x kept equal by
 * update_vtimer_cntvoff(), PHYS without an offset before 6.4 and minus poffset after, the
 * 32-bit NOT_SUPPORTED of the RFC v4 base; and the PHC read from every vCPU of a VM.
 */
import { createHypervisor, isKvmError, KVM_REG_ARM_TIMER_CNT, type HostOptions } from '@kvmlab/hypervisor-core';
import { GuestTimekeeper, PtpClockRegistry, ptpKvmInit, timespec64ToNs } from '@kvmlab/ptp-kvm-core';
import { psciConduit, psciDtInit } from '@kvmlab/psci-conduit';
import { describe, expect, it } from 'vitest';
import { archSysCounter, joinHiLo, PtpKvmArmGuest, PtpKvmArmRfcV4Guest, ptpKvmArm64, type PtpKvmArm64Variant } from '../src/index.js';
import { CASE4_HOST, errno } from './helpers.js';

const build = (kernel: string | undefined, variant: PtpKvmArm64Variant, host: HostOptions = CASE4_HOST) =>
  createHypervisor({ arch: 'arm64', seed: 5, ...(kernel !== undefined ? { kernel } : {}), plugins: [psciConduit(), ptpKvmArm64({ variant })], host });
const cycles = (r: readonly bigint[]): bigint => joinHiLo(r[2]!, r[3]!);

describe('kvm_ptp_get_time() and the counter offsets of each era', () => {
  it('5.13: PHYS is the raw snapshot count (no poffset exists) and KVM_ARM_SET_COUNTER_OFFSET is EINVAL', () => {
    const hv = build('5.13', 'merged');
    const vm = hv.createVm();
    const v = vm.createVcpu(0);
    hv.sim.runFor(1_000_000n);
    expect(cycles(v.hvc([0x86000001n, 1n]))).toBe(hv.host.counter());
    expect(errno(() => vm.armSetCounterOffset({ counterOffset: 1000n }))).toBe('EINVAL');
    expect(cycles(v.hvc([0x86000001n, 1n]))).toBe(hv.host.counter());
  });
  it('6.4 and today: after KVM_ARM_SET_COUNTER_OFFSET both VIRT and PHYS are the snapshot count minus the VM offset', () => {
    for (const kernel of ['6.4', undefined]) {
      const hv = build(kernel, 'merged');
      const vm = hv.createVm();
      const v = vm.createVcpu(0);
      vm.armSetCounterOffset({ counterOffset: 0x1000n });
      expect(cycles(v.hvc([0x86000001n, 0n]))).toBe(hv.host.counter() - 0x1000n);
      expect(cycles(v.hvc([0x86000001n, 1n]))).toBe(hv.host.counter() - 0x1000n);
    }
  });
  it('two vCPUs created at different times get the same VIRT cycles at the same instant (merged on 5.13 and today, RFC v4 on its 5.3 base)', () => {
    for (const [kernel, variant] of [['5.13', 'merged'], [undefined, 'merged'], ['5.3', 'rfc-v4']] as const) {
      const hv = build(kernel, variant);
      const vm = hv.createVm();
      const v0 = vm.createVcpu(0);
      hv.sim.runFor(3_000_000_007n);
      const v1 = vm.createVcpu(1);
      hv.sim.runFor(1_000_000n);
      const [c0, c1] = [cycles(v0.hvc([0x86000001n, 0n])), cycles(v1.hvc([0x86000001n, 0n]))];
      expect(c0).toBe(c1);
      expect(c0).toBe(v1.getOneReg(KVM_REG_ARM_TIMER_CNT));
      expect(c0).toBe(25_000n); // 1 ms of a 25 MHz counter since v1's creation re-synchronised the VM
    }
  });
  it('the RFC v4 base returns NOT_SUPPORTED as 0xffffffff: with the merged hunk on it and an hpet host, the RFC guest\'s (long)a0 < 0 probe passes and its clock reads garbage; the merged (int)a0 < 0 refuses', () => {
    const hv = build('5.3', 'merged', { ...CASE4_HOST, clocksource: 'hpet' });
    const v = hv.createVm().createVcpu(0);
    expect(v.hvc([0x86000001n, 0n])).toEqual([0xffff_ffffn, 0n, 0n, 0n]);
    const psci = psciDtInit(v, [{ compatible: ['arm,psci-1.0'], method: 'hvc' }]);
    const rfc = new PtpKvmArmRfcV4Guest(psci.firmware, v);
    expect(errno(() => rfc.init())).toBe('ok');
    expect(timespec64ToNs(rfc.getClock())).toBe(-(1n << 32n) + rfc.lastHalfDelayNs); // ktime 0xffffffff << 32 as s64: 1969
    expect(errno(() => new PtpKvmArmGuest(psci).getCrosststamp())).toBe('EOPNOTSUPP');
  });
  it('the same host on 6.4 returns a 64-bit -1, which the RFC v4 probe does catch', () => {
    const v = build('6.4', 'merged', { ...CASE4_HOST, clocksource: 'hpet' }).createVm().createVcpu(0);
    const psci = psciDtInit(v, [{ compatible: ['arm,psci-1.0'], method: 'hvc' }]);
    expect(errno(() => new PtpKvmArmRfcV4Guest(psci.firmware, v).init())).toBe('EOPNOTSUPP');
  });
});

describe('the PHC from every vCPU', () => {
  const phcOffsets = (desync: bigint) => {
    const hv = build('5.13', 'merged', {});
    const vm = hv.createVm();
    const v0 = vm.createVcpu(0);
    hv.sim.runFor(2_000_000_011n);
    const v1 = vm.createVcpu(1);
    v1.vtimerCntvoff -= desync; // a per-vCPU CNTVOFF no kernel function writes: the old model's bug
    hv.sim.runFor(5_000_000_000n);
    const psci = psciDtInit(v0, [{ compatible: ['arm,psci-1.0'], method: 'hvc' }]);
    const tk = new GuestTimekeeper(archSysCounter(v0), { realtimeNs: hv.host.realtime() + 2_000n });
    const registry = new PtpClockRegistry();
    const clocks = [ptpKvmInit(new PtpKvmArmGuest(psci), tk, { registry }).clock, ptpKvmInit(new PtpKvmArmGuest({ ...psci, firmware: psci.firmware.onCpu(v1) }), tk, { registry }).clock];
    return clocks.map((c) => {
      try {
        const x = c.sysOffsetPrecise();
        return timespec64ToNs(x.sysRealtime) - timespec64ToNs(x.device);
      } catch (e) {
        return isKvmError(e) ? e.errno : 'other';
      }
    });
  };
  it('with one VM-wide virtual count, PTP_SYS_OFFSET_PRECISE through vCPU 1 reads the same offset as through vCPU 0', () => {
    expect(phcOffsets(0n)).toEqual([2000n, 2000n]);
  });
  it('a vCPU whose counter ran ahead would hand the guest cycles past its clocksource: get_device_system_crosststamp() EINVAL', () => {
    expect(phcOffsets(1000n)).toEqual([2000n, 'EINVAL']);
  });
});
