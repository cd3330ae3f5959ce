/**
 * The kvmclock MSRs as kvm_set_msr_common() / kvm_get_msr_common() handle them
 * (arch/x86/kvm/x86.c): MSR_KVM_SYSTEM_TIME(_NEW) and MSR_KVM_WALL_CLOCK(_NEW), from a guest
 * WRMSR or from the VMM's KVM_SET_MSRS (`hostInitiated`, msr_info->host_initiated).
 */
import type { Vcpu } from '@kvmlab/hypervisor-core';
import {
  KVM_MSR_ENABLED,
  MSR_KVM_SYSTEM_TIME,
  MSR_KVM_SYSTEM_TIME_NEW,
  MSR_KVM_WALL_CLOCK,
  MSR_KVM_WALL_CLOCK_NEW,
  PVCLOCK_VCPU_TIME_INFO_SIZE,
} from '../constants.js';
import type { KvmclockVcpuState, KvmclockVmState } from './kvmclock.js';

export const ownsKvmclockMsr = (msr: number): boolean =>
  msr === MSR_KVM_SYSTEM_TIME_NEW || msr === MSR_KVM_SYSTEM_TIME || msr === MSR_KVM_WALL_CLOCK_NEW || msr === MSR_KVM_WALL_CLOCK;

export const isWallClockMsr = (msr: number): boolean => msr === MSR_KVM_WALL_CLOCK_NEW || msr === MSR_KVM_WALL_CLOCK;

/**
 * models the MSR_KVM_SYSTEM_TIME(_NEW) case of kvm_set_msr_common() (5.4;
 * kvm_write_system_time() in 6.18): only a guest write on vCPU 0 records whether the boot
 * vCPU uses the deprecated MSR (a change asks for KVM_REQ_MASTERCLOCK_UPDATE); a VMM write
 * (KVM_SET_MSRS, host-initiated) never does. Then store the value, ask for
 * KVM_REQ_GLOBAL_CLOCK_UPDATE, and enable the area if bit 0 is set: 5.4 only if the GPA is
 * backed (kvm_gfn_to_hva_cache_init); 6.18's kvm_gpc_activate() marks it active either way.
 */
export function kvmWriteSystemTime(vcpu: Vcpu, st: KvmclockVcpuState, ka: KvmclockVmState, msr: number, data: bigint, hostInitiated: boolean): void {
  if (vcpu.id === 0 && !hostInitiated) {
    const old = msr === MSR_KVM_SYSTEM_TIME;
    if (ka.bootVcpuRunsOldKvmclock !== old) st.requests.add('masterclock');
    ka.bootVcpuRunsOldKvmclock = old;
  }
  st.systemTimeMsr = data;
  st.requests.add('global-clock');
  const enable = (data & BigInt(KVM_MSR_ENABLED)) !== 0n;
  st.pvTimeActive = enable;
  st.pvTimeEnabled = enable && vcpu.vm.memory.isMapped(data & ~BigInt(KVM_MSR_ENABLED), PVCLOCK_VCPU_TIME_INFO_SIZE);
}

/** The value KVM_GET_MSRS / RDMSR returns for a kvmclock MSR (kvm_get_msr_common). */
export function kvmclockMsrValue(st: KvmclockVcpuState, ka: KvmclockVmState, msr: number): bigint {
  return isWallClockMsr(msr) ? ka.wallClock : st.systemTimeMsr;
}
