/**
 * The host side of the PTP call, from "psci: Add hvc call service for ptp_kvm" (RFC v4, in
 * virt/kvm/arm/psci.c) and its merged form kvm_ptp_get_time() (arch/arm64/kvm/hypercalls.c).
 */
import { u32, u64, type HostClock, type Vcpu } from '@kvmlab/hypervisor-core';
import { SMCCC_RET_NOT_SUPPORTED_U64 } from '@kvmlab/psci-conduit';
import { splitHiLo } from '../abi.js';
import { KVM_PTP_PHYS_COUNTER, KVM_PTP_VIRT_COUNTER, type PtpKvmArm64Variant } from '../constants.js';

const NOT_SUPPORTED: readonly bigint[] = [SMCCC_RET_NOT_SUPPORTED_U64, 0n, 0n, 0n];

/**
 * models kvm_ptp_get_time() (arch/arm64/kvm/hypercalls.c): one ktime_get_snapshot(); refuse
 * unless the host clocksource is the arch counter; (u32)x1 picks the virtual (minus the VM's
 * voffset) or physical (minus poffset) counter; anything else leaves {-1, 0, 0, 0}.
 */
export function kvmPtpGetTime(host: HostClock, vcpu: Vcpu, x: readonly bigint[], variant: PtpKvmArm64Variant): readonly bigint[] {
  const snap = host.ktimeGetSnapshot();
  let cycles: bigint;
  if (variant === 'rfc-v4') {
    // RFC v4 hunk (virt/kvm/arm/psci.c): no clocksource check, no counter argument;
    // change (3) "subtract cntvoff before return cycles from host".
    cycles = u64(snap.cycles - vcpu.cntvoff);
  } else {
    // merged hunk: "valid only if the current clocksource is the architected counter".
    if (snap.csId !== 'CSID_ARM_ARCH_COUNTER') return NOT_SUPPORTED;
    switch (Number(u32(x[1] ?? 0n))) {
      case KVM_PTP_VIRT_COUNTER:
        cycles = u64(snap.cycles - vcpu.cntvoff);
        break;
      case KVM_PTP_PHYS_COUNTER:
        // [≥6.4] minus the VM poffset; before, "cycles = systime_snapshot.cycles" — cntpoff is 0 in those eras (core arch-timer.ts).
        cycles = u64(snap.cycles - vcpu.cntpoff);
        break;
      default:
        return NOT_SUPPORTED;
    }
  }
  const [realHi, realLo] = splitHiLo(snap.real);
  const [cycHi, cycLo] = splitHiLo(cycles);
  return [realHi, realLo, cycHi, cycLo];
}
