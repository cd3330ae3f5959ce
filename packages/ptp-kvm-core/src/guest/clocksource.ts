/**
 * What a guest clocksource offers the guest's timekeeping: a counter read through the
 * architectural boundary (CNTVCT_EL0 on arm64, kvm-clock on x86) and the frequency the guest
 * believes it runs at. The arch packages build one; this package never reads hardware itself.
 */
import type { ClocksourceId } from '@kvmlab/hypervisor-core';

export interface GuestClocksource {
  /** The clocksource name (e.g. 'arch_sys_counter', 'kvm-clock'). */
  readonly name: string;
  /** enum clocksource_ids of this clocksource (get_device_system_crosststamp compares it). */
  readonly csId: ClocksourceId;
  /** Nominal frequency in Hz the guest programs its mult/shift from (CNTFRQ_EL0; 1 GHz for kvm-clock). */
  readonly hz: bigint;
  /** Counter width in bits (CLOCKSOURCE_MASK); arch_sys_counter is 56, kvm-clock 64. */
  readonly maskBits: number;
  /** Reads the counter now, as the guest's clocksource->read() would. */
  read(): bigint;
}
