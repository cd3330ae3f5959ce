/**
 * The arch-independent ptp_kvm driver (drivers/ptp/ptp_kvm_common.c, from "ptp: Reorganize
 * ptp_kvm modules to make it arch-independent"): it asks the arch for the service, then
 * registers a PHC whose gettime and crosststamp go through the four arch hooks.
 */
import { isKvmError, KvmError } from '@kvmlab/hypervisor-core';
import type { PtpKvmArchHooks } from '../arch-hooks.js';
import { PTP_KVM_CLOCK_NAME } from '../constants.js';
import type { GuestTimekeeper } from '../guest/timekeeping.js';
import { timespec64ToNs } from '../guest/timespec.js';
import type { PtpClockInfo } from './clock-info.js';
import { PtpClock } from './ptp-clock.js';

/** The guest kernel log (printk) the driver writes to. */
export type KernelLog = (level: 'err' | 'info', message: string) => void;

/** Which /dev/ptpN numbers are taken (ptp_clock_register picks the lowest free one). */
export class PtpClockRegistry {
  private readonly used = new Set<number>();

  register(make: (index: number) => PtpClock): PtpClock {
    let i = 0;
    while (this.used.has(i)) i++;
    this.used.add(i);
    return make(i);
  }

  unregister(clock: PtpClock): void {
    this.used.delete(clock.index);
  }

  get count(): number {
    return this.used.size;
  }
}

const eopnotsupp = (what: string): never => {
  throw new KvmError('EOPNOTSUPP', `ptp_kvm has no ${what}`);
};

/** models ptp_kvm_caps: the clock_info ptp_kvm registers, bound to the arch hooks. */
export function ptpKvmClockInfo(hooks: PtpKvmArchHooks, timekeeper: GuestTimekeeper): PtpClockInfo {
  return {
    name: PTP_KVM_CLOCK_NAME,
    maxAdj: 0,
    nAlarm: 0,
    nExtTs: 0,
    nPerOut: 0,
    nPins: 0,
    pps: false,
    adjfine: () => eopnotsupp('adjfine'),
    adjtime: () => eopnotsupp('adjtime'),
    settime64: () => eopnotsupp('settime64'),
    enable: () => eopnotsupp('enable'),
    // models ptp_kvm_gettime(): under kvm_ptp_lock, kvm_arch_ptp_get_clock().
    gettime64: () => hooks.getClock(),
    // models ptp_kvm_getcrosststamp() → get_device_system_crosststamp(ptp_kvm_get_time_fn, …).
    getcrosststamp: () =>
      timekeeper.getDeviceSystemCrosststamp(() => {
        const x = hooks.getCrosststamp(); // models ptp_kvm_get_time_fn()
        return { device: timespec64ToNs(x.deviceTime), cycles: x.cycles, csId: x.csId };
      }),
  };
}

export interface PtpKvmDriver {
  readonly clock: PtpClock;
  /** models ptp_kvm_exit(): unregisters the clock, then kvm_arch_ptp_exit(). */
  exit(): void;
}

/**
 * models ptp_kvm_init() (drivers/ptp/ptp_kvm_common.c): kvm_arch_ptp_init(); on failure log
 * "fail to initialize ptp_kvm" unless the error is -EOPNOTSUPP (the quiet "no service"), and
 * fail with that error; otherwise register the clock.
 */
export function ptpKvmInit(
  hooks: PtpKvmArchHooks,
  timekeeper: GuestTimekeeper,
  opts: { readonly registry?: PtpClockRegistry; readonly log?: KernelLog } = {},
): PtpKvmDriver {
  const registry = opts.registry ?? new PtpClockRegistry();
  const log = opts.log ?? (() => undefined);
  try {
    hooks.init();
  } catch (e) {
    if (!isKvmError(e, 'EOPNOTSUPP')) log('err', 'fail to initialize ptp_kvm');
    throw e;
  }
  const info = ptpKvmClockInfo(hooks, timekeeper);
  const clock = registry.register((index) => new PtpClock(info, index, timekeeper));
  return {
    clock,
    exit: () => {
      registry.unregister(clock);
      hooks.exit();
    },
  };
}
