/** struct ptp_clock_info (include/linux/ptp_clock_kernel.h): what a PHC driver registers. */
import type { Timespec64 } from '../arch-hooks.js';
import type { SystemDeviceCrosststamp } from '../guest/timekeeping.js';

export interface PtpClockInfo {
  readonly name: string;
  /** Maximum frequency adjustment, ppb. */
  readonly maxAdj: number;
  readonly nAlarm: number;
  readonly nExtTs: number;
  readonly nPerOut: number;
  readonly nPins: number;
  readonly pps: boolean;
  /** Each op throws a KvmError with the errno the driver returns. */
  adjfine(scaledPpm: bigint): void;
  adjtime(deltaNs: bigint): void;
  gettime64(): Timespec64;
  settime64(ts: Timespec64): void;
  /** Optional: present only on drivers with cross-timestamping. */
  getcrosststamp?(): SystemDeviceCrosststamp;
  /** Optional: gettimex64 (PTP_SYS_OFFSET_EXTENDED); ptp_kvm has none. */
  gettimex64?(): Timespec64;
  enable(request: string, on: boolean): void;
}
