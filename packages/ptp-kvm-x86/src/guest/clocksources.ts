/**
 * The x86 guest's clocksources as ptp-kvm-core's guest timekeeping sees them (its
 * `GuestClocksource` shape): kvm-clock (ns, 1 GHz, arch/x86/kernel/kvmclock.c) and the TSC
 * (arch/x86/kernel/tsc.c), calibrated from kvmclock as kvm_get_tsc_khz() does.
 */
import type { ClocksourceId } from '@kvmlab/hypervisor-core';
import { NSEC_PER_SEC } from '../constants.js';
import type { X86GuestCpu } from './cpu.js';
import type { KvmclockGuest } from './kvmclock.js';
import { pvclockTscKhz, readPvti } from './pvclock.js';

export interface X86GuestClocksource {
  readonly name: string;
  readonly csId: ClocksourceId;
  readonly hz: bigint;
  readonly maskBits: number;
  read(): bigint;
}

/** kvm_clock: rating 400, registered at NSEC_PER_SEC, CLOCKSOURCE_MASK(64), id CSID_X86_KVM_CLK. */
export function kvmClockClocksource(kvmclock: KvmclockGuest): X86GuestClocksource {
  return { name: 'kvm-clock', csId: 'CSID_X86_KVM_CLK', hz: NSEC_PER_SEC, maskBits: 64, read: () => kvmclock.read() };
}

/** clocksource_tsc: RDTSC at tsc_khz, which a KVM guest takes from kvmclock (kvm_get_tsc_khz). */
export function tscClocksource(cpu: X86GuestCpu, kvmclock: KvmclockGuest): X86GuestClocksource {
  const khz = pvclockTscKhz(readPvti(cpu, kvmclock.pvtiGpa));
  if (khz === 0n) throw new RangeError('the TSC cannot be calibrated: kvm-clock has no scale yet');
  return { name: 'tsc', csId: 'CSID_X86_TSC', hz: khz * 1000n, maskBits: 64, read: () => cpu.rdtsc() };
}
