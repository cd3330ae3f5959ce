/**
 * The arm64 counter offsets KVM keeps (arch/arm64/kvm/arch_timer.c) and their userspace ABI:
 * KVM_GET/SET_ONE_REG of KVM_REG_ARM_TIMER_CNT and KVM_REG_ARM_PTIMER_CNT, and
 * KVM_ARM_SET_COUNTER_OFFSET. Three eras (host-timeline.ts):
 * - before 6.3: each vCPU has its own CNTVOFF_EL2, and update_vtimer_cntvoff() writes the same
 *   value into every vCPU of the VM — when a vCPU is created and when userspace writes
 *   TIMER_CNT; the physical counter has no offset;
 * - 6.3 (47053904e182): one VM-wide voffset;
 * - 6.4 (30ec7997d175 …): a VM-wide poffset too, KVM_ARM_SET_COUNTER_OFFSET (after which vCPU
 *   creation and counter writes no longer move the offsets), and a writable PTIMER_CNT.
 * The guest reads CNTVCT_EL0 = physical count − voffset and CNTPCT_EL0 = physical count − poffset.
 */
import { u64 } from '../bigint.js';
import { KvmError } from '../errors.js';
import type { HypervisorKernel } from '../kernel-releases.js';
import type { Vm } from '../vm/vm.js';
import type { Vcpu } from '../vcpu/vcpu.js';
import { arm64HostHas } from './host-timeline.js';

/** ARM64_SYS_REG(op0, op1, crn, crm, op2) (arch/arm64/include/uapi/asm/kvm.h): KVM_REG_ARM64 | SIZE_U64 | ARM64_SYSREG (0x13 << 16). */
export const arm64SysReg = (op0: number, op1: number, crn: number, crm: number, op2: number): bigint =>
  0x6030_0000_0013_0000n | BigInt((op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2);

/** KVM_REG_ARM_TIMER_CNT = ARM64_SYS_REG(3, 3, 14, 3, 2): the CNTV_CVAL encoding — CNT and CVAL are swapped in the uapi, "set API" (arm64 uapi kvm.h). */
export const KVM_REG_ARM_TIMER_CNT = arm64SysReg(3, 3, 14, 3, 2); // 0x603000000013df1a, arm64 uapi kvm.h
/** KVM_REG_ARM_TIMER_CVAL = ARM64_SYS_REG(3, 3, 14, 0, 2) (arm64 uapi kvm.h). */
export const KVM_REG_ARM_TIMER_CVAL = arm64SysReg(3, 3, 14, 0, 2); // 0x603000000013df02, arm64 uapi kvm.h
/** KVM_REG_ARM_PTIMER_CNT = ARM64_SYS_REG(3, 3, 14, 0, 1) (arm64 uapi kvm.h). */
export const KVM_REG_ARM_PTIMER_CNT = arm64SysReg(3, 3, 14, 0, 1); // 0x603000000013df01, arm64 uapi kvm.h
/** KVM_CAP_COUNTER_OFFSET (include/uapi/linux/kvm.h, 30ec7997d175). */
export const KVM_CAP_COUNTER_OFFSET = 227; // include/uapi/linux/kvm.h
/** KVM_ARM_SET_COUNTER_OFFSET = _IOW(KVMIO, 0xb5, struct kvm_arm_counter_offset) with a 16-byte struct (include/uapi/linux/kvm.h). */
export const KVM_ARM_SET_COUNTER_OFFSET = 0x4010aeb5; // include/uapi/linux/kvm.h

/** struct kvm_arm_counter_offset (arch/arm64/include/uapi/asm/kvm.h). */
export interface KvmArmCounterOffset {
  readonly counterOffset: bigint;
  readonly reserved?: bigint;
}

export type ArmTimerEra = 'per-vcpu' | 'vm-voffset' | 'vm-offsets';

export function armTimerEra(kernel: HypervisorKernel): ArmTimerEra {
  if (arm64HostHas(kernel, 'counterOffset')) return 'vm-offsets';
  return arm64HostHas(kernel, 'vmVirtualOffset') ? 'vm-voffset' : 'per-vcpu';
}

/** kvm->arch.timer_data and the KVM_ARCH_FLAG_VM_COUNTER_OFFSET flag; the per-vCPU CNTVOFF of the old era lives in the vCPU. */
export class ArmVmTimer {
  readonly vm: Vm;
  readonly era: ArmTimerEra;
  voffset = 0n;
  poffset = 0n;
  /** KVM_ARCH_FLAG_VM_COUNTER_OFFSET: userspace set the offsets with KVM_ARM_SET_COUNTER_OFFSET. */
  counterOffsetSet = false;

  constructor(vm: Vm) {
    this.vm = vm;
    this.era = armTimerEra(vm.hv.kernelInfo);
  }

  private phys(): bigint {
    return this.vm.hv.host.counter(); // kvm_phys_timer_read()
  }

  /** The virtual offset `vcpu` runs with (CNTVOFF_EL2). */
  voffsetOf(vcpu: Vcpu): bigint {
    return this.era === 'per-vcpu' ? vcpu.vtimerCntvoff : this.voffset;
  }

  /** The physical offset: none before 6.4 (timer_get_offset() is 0 for the ptimer). */
  poffsetOf(): bigint {
    return this.era === 'vm-offsets' ? this.poffset : 0n;
  }

  /** models update_vtimer_cntvoff(): every vCPU of the VM, plus the one being created (not yet in the list). */
  private updateVtimerCntvoff(vcpu: Vcpu, cntvoff: bigint): void {
    for (const v of this.vm.vcpus) v.vtimerCntvoff = cntvoff;
    vcpu.vtimerCntvoff = cntvoff;
  }

  /** The virtual offset written as vCPU `vcpu`'s (timer_set_offset() on the vtimer, or update_vtimer_cntvoff()). */
  setVoffset(vcpu: Vcpu, off: bigint): void {
    if (this.era === 'per-vcpu') this.updateVtimerCntvoff(vcpu, u64(off));
    else this.voffset = u64(off);
  }

  /** models kvm_timer_vcpu_init(): the offsets are re-synchronised to "virtual count 0 now" unless userspace set them (6.4). */
  vcpuInit(vcpu: Vcpu): void {
    if (this.era === 'vm-offsets' && this.counterOffsetSet) return;
    this.setVoffset(vcpu, this.phys());
    if (this.era === 'vm-offsets') this.poffset = 0n;
  }

  /** models kvm_arm_timer_read(…, TIMER_REG_CNT) for the vtimer / ptimer (KVM_GET_ONE_REG). */
  getCnt(vcpu: Vcpu, which: 'virt' | 'phys'): bigint {
    return u64(this.phys() - (which === 'virt' ? this.voffsetOf(vcpu) : this.poffsetOf()));
  }

  /** models kvm_arm_timer_set_reg(), TIMER_CNT / PTIMER_CNT cases: ignored once KVM_ARM_SET_COUNTER_OFFSET was used. */
  setCnt(vcpu: Vcpu, which: 'virt' | 'phys', value: bigint): void {
    if (this.era === 'vm-offsets' && this.counterOffsetSet) return;
    const off = u64(this.phys() - value);
    if (which === 'virt') this.setVoffset(vcpu, off);
    else this.poffset = off;
  }

  /** models kvm_vm_ioctl_set_counter_offset() (arch_timer.c): reserved must be 0; both offsets take the value. */
  setCounterOffset(arg: KvmArmCounterOffset): void {
    if (this.era !== 'vm-offsets') throw new KvmError('EINVAL', 'KVM_ARM_SET_COUNTER_OFFSET is not an ioctl of this kernel (added in 6.4)', 'ioctl');
    if ((arg.reserved ?? 0n) !== 0n) throw new KvmError('EINVAL', `kvm_arm_counter_offset.reserved = ${arg.reserved} is not 0`, 'reserved');
    // lock_all_vcpus() cannot fail here: no vCPU of the model is inside KVM_RUN when the VMM calls in (no EBUSY).
    this.counterOffsetSet = true;
    this.voffset = u64(arg.counterOffset);
    this.poffset = u64(arg.counterOffset);
  }
}

/** The timer registers and capability the core answers on arm64 (kvm_arm_timer_{get,set}_reg(); arm.c). */
export function installArmTimer(
  kernel: HypervisorKernel,
  addOneReg: (id: bigint, get: (v: Vcpu) => bigint, set: (v: Vcpu, value: bigint) => void) => void,
  addCap: (cap: number) => void,
): void {
  addOneReg(KVM_REG_ARM_TIMER_CNT, (v) => v.vm.armTimer.getCnt(v, 'virt'), (v, value) => v.vm.armTimer.setCnt(v, 'virt', value));
  if (armTimerEra(kernel) === 'vm-offsets') {
    // 680232a94c12 ("Allow save/restoring of the physical timer"): PTIMER_CNT writes set poffset.
    addOneReg(KVM_REG_ARM_PTIMER_CNT, (v) => v.vm.armTimer.getCnt(v, 'phys'), (v, value) => v.vm.armTimer.setCnt(v, 'phys', value));
    addCap(KVM_CAP_COUNTER_OFFSET);
  }
}
