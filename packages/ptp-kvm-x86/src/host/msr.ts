/** The kvmclock system-time MSRs as kvm_set_msr_common() handles them (arch/x86/kvm/x86.c). */
import type { Vcpu } from '@kvmlab/hypervisor-core';
import { KVM_MSR_ENABLED, MSR_KVM_SYSTEM_TIME, MSR_KVM_SYSTEM_TIME_NEW, PVCLOCK_VCPU_TIME_INFO_SIZE } from '../constants.js';
import type { KvmclockVcpuState, KvmclockVmState } from './kvmclock.js';

export const ownsKvmclockMsr = (msr: number): boolean => msr === MSR_KVM_SYSTEM_TIME_NEW || msr === MSR_KVM_SYSTEM_TIME;

/**
 * models the MSR_KVM_SYSTEM_TIME(_NEW) case of kvm_set_msr_common() (arch/x86/kvm/x86.c, 5.x):
 * kvmclock_reset(), track whether vCPU 0 uses the deprecated MSR (which rules the master clock
 * out), store the value, and enable the area if bit 0 is set and the GPA is backed
 * (kvm_gfn_to_hva_cache_init). The caller then services KVM_REQ_GLOBAL_CLOCK_UPDATE.
 */
export function kvmSetSystemTimeMsr(vcpu: Vcpu, st: KvmclockVcpuState, ka: KvmclockVmState, msr: number, data: bigint): { masterclockUpdate: boolean } {
  st.pvTimeEnabled = false;
  let masterclockUpdate = false;
  if (vcpu.id === 0) {
    const old = msr === MSR_KVM_SYSTEM_TIME;
    if (ka.bootVcpuRunsOldKvmclock !== old) masterclockUpdate = true;
    ka.bootVcpuRunsOldKvmclock = old;
  }
  st.systemTimeMsr = data;
  if ((data & BigInt(KVM_MSR_ENABLED)) !== 0n) {
    st.pvTimeEnabled = vcpu.vm.memory.isMapped(data & ~BigInt(KVM_MSR_ENABLED), PVCLOCK_VCPU_TIME_INFO_SIZE);
  }
  return { masterclockUpdate };
}
