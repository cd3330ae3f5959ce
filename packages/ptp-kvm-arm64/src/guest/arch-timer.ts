/**
 * The guest's arch timer as a clocksource (drivers/clocksource/arm_arch_timer.c): it reads the
 * counter the timer PPI implies (CNTVCT_EL0 for the virtual timer, CNTPCT_EL0 for the physical
 * or hypervisor one), 56 bits wide, at CNTFRQ_EL0; and sched_clock() over the same counter.
 */
import { clocksCalcMultShift, cyc2ns, type MultShift, type Vcpu } from '@kvmlab/hypervisor-core';
import type { GuestClocksource } from '@kvmlab/ptp-kvm-core';

/** enum arch_timer_ppi_nr as far as the counter choice goes. */
export type ArchTimerPpi = 'virt' | 'phys' | 'hyp';

/** CLOCKSOURCE_MASK(56): arch_sys_counter's width (drivers/clocksource/arm_arch_timer.c). */
export const ARCH_COUNTER_MASK_BITS = 56;

export function archCounterKind(ppi: ArchTimerPpi): 'virt' | 'phys' {
  return ppi === 'virt' ? 'virt' : 'phys';
}

/** The 'arch_sys_counter' clocksource as the guest registers it. */
export function archSysCounter(vcpu: Vcpu, ppi: ArchTimerPpi = 'virt', cntfrq: bigint = vcpu.vm.hv.host.counterHz): GuestClocksource {
  const kind = archCounterKind(ppi);
  return {
    name: 'arch_sys_counter',
    csId: 'CSID_ARM_ARCH_COUNTER',
    hz: cntfrq,
    maskBits: ARCH_COUNTER_MASK_BITS,
    read: () => vcpu.readCounter(kind),
  };
}

/** sched_clock() on the arch counter: sched_clock_register(rate) plans mult/shift for 3600 s (kernel/time/sched_clock.c). */
export function archSchedClock(vcpu: Vcpu, ppi: ArchTimerPpi = 'virt', cntfrq: bigint = vcpu.vm.hv.host.counterHz): () => bigint {
  const kind = archCounterKind(ppi);
  const ms: MultShift = clocksCalcMultShift(cntfrq, 1_000_000_000n, 3600n);
  const mask = (1n << BigInt(ARCH_COUNTER_MASK_BITS)) - 1n;
  return () => cyc2ns(vcpu.readCounter(kind) & mask, ms);
}
