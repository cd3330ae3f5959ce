/**
 * The arm64 counter offsets against arch/arm64/kvm/arch_timer.c of each era: update_vtimer_cntvoff()
 * (before 6.3), the VM-wide voffset (6.3, 47053904e182), poffset and KVM_ARM_SET_COUNTER_OFFSET
 * (6.4, 30ec7997d175); KVM_GET/SET_ONE_REG of TIMER_CNT / PTIMER_CNT.
 */
import { fc, test as ftest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  armTimerEra,
  KVM_ARM_SET_COUNTER_OFFSET,
  KVM_CAP_COUNTER_OFFSET,
  KVM_REG_ARM_PTIMER_CNT,
  KVM_REG_ARM_TIMER_CNT,
  KVM_REG_ARM_TIMER_CVAL,
} from '../src/arm64/arch-timer.js';
import { createHypervisor } from '../src/hypervisor.js';
import { errnoOf } from './helpers.js';

const runs = process.env.KVMLAB_SOAK ? 2000 : 100;
const arm = (kernel?: string) => createHypervisor({ arch: 'arm64', ...(kernel !== undefined ? { kernel } : {}), host: { counterHz: 25_000_000n, counterStart: 7_000_000n } });

describe('constants (arch/arm64/include/uapi/asm/kvm.h, include/uapi/linux/kvm.h)', () => {
  it('TIMER_CNT and TIMER_CVAL keep their swapped encodings; PTIMER_CNT; the cap and the ioctl', () => {
    expect(KVM_REG_ARM_TIMER_CNT).toBe(0x6030_0000_0013_df1an); // ARM64_SYS_REG(3, 3, 14, 3, 2)
    expect(KVM_REG_ARM_TIMER_CVAL).toBe(0x6030_0000_0013_df02n); // ARM64_SYS_REG(3, 3, 14, 0, 2)
    expect(KVM_REG_ARM_PTIMER_CNT).toBe(0x6030_0000_0013_df01n); // ARM64_SYS_REG(3, 3, 14, 0, 1)
    expect(KVM_CAP_COUNTER_OFFSET).toBe(227);
    expect(KVM_ARM_SET_COUNTER_OFFSET).toBe(0x4010aeb5); // _IOW(0xAE, 0xb5, 16 bytes)
  });
  it('the era follows the kernel: per-vCPU CNTVOFF before 6.3, a VM voffset in 6.3, both offsets from 6.4 (and with no kernel)', () => {
    expect(['5.3', '5.13', '6.2.9', '6.3', '6.4', '6.18'].map((k) => armTimerEra(arm(k).kernelInfo))).toEqual(
      ['per-vcpu', 'per-vcpu', 'per-vcpu', 'vm-voffset', 'vm-offsets', 'vm-offsets'],
    );
    expect(armTimerEra(arm().kernelInfo)).toBe('vm-offsets');
  });
});

describe('one virtual count per VM', () => {
  ftest.prop(
    [fc.constantFrom('5.13', '6.3', '6.18'), fc.array(fc.bigInt({ min: 0n, max: 5_000_000_000n }), { minLength: 1, maxLength: 6 }), fc.bigInt({ min: 0n, max: 10_000_000_000n })],
    { numRuns: runs },
  )('all vCPUs of a VM read the same virtual count at any instant, whatever their creation times', (kernel, gaps, later) => {
    const hv = arm(kernel);
    const vm = hv.createVm();
    for (const [i, gap] of gaps.entries()) {
      hv.sim.runFor(gap);
      vm.createVcpu(i);
    }
    const check = (): void => {
      const counts = vm.vcpus.map((v) => v.readCounter('virt'));
      expect(new Set(counts).size).toBe(1);
      expect(vm.vcpus.map((v) => v.getOneReg(KVM_REG_ARM_TIMER_CNT))).toEqual(counts);
    };
    check();
    hv.sim.runFor(later);
    check();
    // kvm_timer_vcpu_init() re-synchronised the VM when the last vCPU was created: the count restarted then.
    expect(vm.vcpus[0]!.readCounter('virt')).toBe(hv.host.counter() - hv.host.counter(hv.sim.now - later));
  });

  it('update_vtimer_cntvoff() [5.x]: creating a vCPU restarts the virtual count of the vCPUs already running', () => {
    const hv = arm('5.13');
    const vm = hv.createVm();
    const v0 = vm.createVcpu(0);
    hv.sim.runFor(1_000_000_000n);
    expect(v0.readCounter('virt')).toBe(25_000_000n);
    const v1 = vm.createVcpu(1);
    expect([v0.readCounter('virt'), v1.readCounter('virt')]).toEqual([0n, 0n]);
    expect(v0.vtimerCntvoff).toBe(v1.vtimerCntvoff); // two per-vCPU CNTVOFF_EL2, one value
  });

  it('KVM_SET_ONE_REG(TIMER_CNT) on one vCPU sets every vCPU of the VM [5.x update_vtimer_cntvoff(), 6.3 the VM voffset]', () => {
    for (const kernel of ['5.13', '6.3']) {
      const hv = arm(kernel);
      const vm = hv.createVm();
      const [v0, v1] = [vm.createVcpu(0), vm.createVcpu(1)];
      v1.setOneReg(KVM_REG_ARM_TIMER_CNT, 0x1234_5678n);
      expect([v0.readCounter('virt'), v1.getOneReg(KVM_REG_ARM_TIMER_CNT)]).toEqual([0x1234_5678n, 0x1234_5678n]);
      hv.sim.runFor(40n); // one 25 MHz tick
      expect(v0.getOneReg(KVM_REG_ARM_TIMER_CNT)).toBe(0x1234_5679n);
      const other = hv.createVm().createVcpu(0);
      expect(other.readCounter('virt')).toBe(0n); // another VM keeps its own offset
    }
  });

  it('migration: a restored TIMER_CNT is lost when a vCPU is created after it; KVM_ARM_SET_COUNTER_OFFSET (6.4) keeps it', () => {
    for (const kernel of ['5.13', '6.4']) {
      const vm = arm(kernel).createVm();
      vm.createVcpu(0).setOneReg(KVM_REG_ARM_TIMER_CNT, 5_000_000n);
      vm.createVcpu(1);
      expect(vm.vcpus[0]!.readCounter('virt')).toBe(0n); // kvm_timer_vcpu_init() clobbered the restored count
    }
    const hv = arm('6.4');
    const vm = hv.createVm();
    vm.createVcpu(0);
    const off = hv.host.counter() - 5_000_000n;
    vm.armSetCounterOffset({ counterOffset: off });
    vm.createVcpu(1);
    expect(vm.vcpus.map((v) => v.readCounter('virt'))).toEqual([5_000_000n, 5_000_000n]);
    expect(vm.vcpus[1]!.readCounter('phys')).toBe(5_000_000n); // the offset applies to both views
    vm.vcpus[0]!.setOneReg(KVM_REG_ARM_TIMER_CNT, 1n); // ignored once the VM offset is set
    vm.vcpus[0]!.setOneReg(KVM_REG_ARM_PTIMER_CNT, 1n);
    expect([vm.vcpus[1]!.readCounter('virt'), vm.vcpus[1]!.readCounter('phys')]).toEqual([5_000_000n, 5_000_000n]);
  });
});

describe('the physical counter and KVM_ARM_SET_COUNTER_OFFSET', () => {
  it('6.4: KVM_SET_ONE_REG(PTIMER_CNT) sets the VM poffset; a vCPU created later resets it to 0 (kvm_timer_vcpu_init)', () => {
    const hv = arm('6.4');
    const vm = hv.createVm();
    const v0 = vm.createVcpu(0);
    v0.setOneReg(KVM_REG_ARM_PTIMER_CNT, 100n);
    expect([v0.readCounter('phys'), v0.cntpoff]).toEqual([100n, hv.host.counter() - 100n]);
    vm.createVcpu(1);
    expect(v0.readCounter('phys')).toBe(hv.host.counter());
  });

  it('before 6.4 the physical view has no offset and no API: CNTPCT is the host counter, PTIMER_CNT is not modelled (ENOENT)', () => {
    const hv = arm('6.3');
    const v = hv.createVm().createVcpu(0);
    expect([v.readCounter('phys'), v.cntpoff]).toEqual([hv.host.counter(), 0n]);
    expect(errnoOf(() => v.setOneReg(KVM_REG_ARM_PTIMER_CNT, 1n))).toBe('ENOENT');
  });

  it('KVM_CAP_COUNTER_OFFSET answers 1 from 6.4 and 0 before; the ioctl is EINVAL before 6.4 and on x86, and changes nothing', () => {
    expect([arm('6.3').checkExtension(KVM_CAP_COUNTER_OFFSET), arm('6.4').checkExtension(KVM_CAP_COUNTER_OFFSET), arm().checkExtension(KVM_CAP_COUNTER_OFFSET)]).toEqual([0, 1, 1]);
    const vm = arm('6.3').createVm();
    const v = vm.createVcpu(0);
    expect(errnoOf(() => vm.armSetCounterOffset({ counterOffset: 0n }))).toBe('EINVAL');
    expect(v.readCounter('virt')).toBe(0n);
    expect(errnoOf(() => createHypervisor({ arch: 'x86_64' }).createVm().armSetCounterOffset({ counterOffset: 0n }))).toBe('EINVAL');
  });

  it('kvm_vm_ioctl_set_counter_offset(): reserved ≠ 0 is EINVAL and leaves both offsets and the flag as they were', () => {
    const vm = arm('6.4').createVm();
    const v = vm.createVcpu(0);
    const before = [v.cntvoff, v.cntpoff];
    expect(errnoOf(() => vm.armSetCounterOffset({ counterOffset: 5n, reserved: 1n }))).toBe('EINVAL');
    expect([v.cntvoff, v.cntpoff, vm.armTimer.counterOffsetSet]).toEqual([...before, false]);
    v.setOneReg(KVM_REG_ARM_TIMER_CNT, 9n); // still honoured: the flag was not set
    expect(v.readCounter('virt')).toBe(9n);
  });
});
