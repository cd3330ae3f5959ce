/**
 * A registered PTP hardware clock as guest userspace sees it: the /dev/ptpN ioctls
 * (drivers/ptp/ptp_chardev.c) and the dynamic posix clock calls (drivers/ptp/ptp_clock.c).
 * Failures throw a KvmError carrying the errno the syscall would return.
 */
import { KvmError } from '@kvmlab/hypervisor-core';
import type { Timespec64 } from '../arch-hooks.js';
import { ADJ_FREQUENCY, ADJ_NANO, ADJ_SETOFFSET, fdToClockid, PTP_MAX_SAMPLES } from '../constants.js';
import type { GuestTimekeeper } from '../guest/timekeeping.js';
import { nsToTimespec64, NSEC_PER_SEC, timespec64ToNs } from '../guest/timespec.js';
import type { PtpClockInfo } from './clock-info.js';

/** struct ptp_clock_caps (the fields ptp_kvm sets; the rest are 0). */
export interface PtpClockCaps {
  readonly maxAdj: number;
  readonly nAlarm: number;
  readonly nExtTs: number;
  readonly nPerOut: number;
  readonly pps: number;
  readonly nPins: number;
  readonly crossTimestamping: number;
  readonly adjustPhase: number;
  readonly maxPhaseAdj: number;
}

/** struct ptp_sys_offset_precise: three {sec, nsec} stamps (rsv zeroed). */
export interface PtpSysOffsetPrecise {
  readonly device: Timespec64;
  readonly sysRealtime: Timespec64;
  readonly sysMonoraw: Timespec64;
}

/** struct timex, the fields clock_adjtime reads. */
export interface Timex {
  readonly modes: number;
  /** ADJ_FREQUENCY: scaled ppm (ppm × 2^16). */
  readonly freq?: bigint;
  /** ADJ_SETOFFSET: the offset as a timeval/timespec; usec unless ADJ_NANO. */
  readonly time?: { readonly sec: bigint; readonly usec: bigint };
}

export class PtpClock {
  readonly info: PtpClockInfo;
  /** N of /dev/ptpN. */
  readonly index: number;
  /** The fd a program holds on /dev/ptpN (for FD_TO_CLOCKID). */
  readonly fd: number;
  private readonly timekeeper: GuestTimekeeper;
  /** ptp->dialed_frequency: what a successful ADJ_FREQUENCY last set. */
  private dialedFrequency = 0n;

  constructor(info: PtpClockInfo, index: number, timekeeper: GuestTimekeeper, fd = 3) {
    this.info = info;
    this.index = index;
    this.timekeeper = timekeeper;
    this.fd = fd;
  }

  get devicePath(): string {
    return `/dev/ptp${this.index}`;
  }

  /** FD_TO_CLOCKID(fd) of the open device. */
  get clockid(): number {
    return fdToClockid(this.fd);
  }

  // --- ioctls (drivers/ptp/ptp_chardev.c, ptp_ioctl) ---

  /** models PTP_CLOCK_GETCAPS. */
  getcaps(): PtpClockCaps {
    const i = this.info;
    return {
      maxAdj: i.maxAdj,
      nAlarm: i.nAlarm,
      nExtTs: i.nExtTs,
      nPerOut: i.nPerOut,
      pps: i.pps ? 1 : 0,
      nPins: i.nPins,
      crossTimestamping: i.getcrosststamp !== undefined ? 1 : 0,
      adjustPhase: 0,
      maxPhaseAdj: 0,
    };
  }

  /**
   * models PTP_SYS_OFFSET: n ≤ PTP_MAX_SAMPLES, else -EINVAL; 2n+1 stamps
   * [sys, phc] × n then sys, each sys a ktime_get_real_ts64() around gettime64.
   */
  sysOffset(nSamples: number): Timespec64[] {
    if (!Number.isInteger(nSamples) || nSamples < 0 || nSamples > PTP_MAX_SAMPLES) {
      throw new KvmError('EINVAL', `n_samples ${nSamples} > PTP_MAX_SAMPLES (${PTP_MAX_SAMPLES})`, 'n_samples');
    }
    const out: Timespec64[] = [];
    for (let i = 0; i < nSamples; i++) {
      out.push(nsToTimespec64(this.timekeeper.realtime()));
      out.push(this.info.gettime64());
    }
    out.push(nsToTimespec64(this.timekeeper.realtime()));
    return out;
  }

  /** models PTP_SYS_OFFSET_PRECISE: getcrosststamp or -EOPNOTSUPP; its errors pass through. */
  sysOffsetPrecise(): PtpSysOffsetPrecise {
    const fn = this.info.getcrosststamp;
    if (fn === undefined) throw new KvmError('EOPNOTSUPP', 'the clock cannot cross-timestamp');
    const xt = fn.call(this.info);
    return {
      device: nsToTimespec64(xt.device),
      sysRealtime: nsToTimespec64(xt.sysRealtime),
      sysMonoraw: nsToTimespec64(xt.sysMonoraw),
    };
  }

  /**
   * models PTP_SYS_OFFSET_EXTENDED: needs gettimex64, else -EOPNOTSUPP; n ≤ PTP_MAX_SAMPLES, else
   * -EINVAL. n = 0 is accepted and takes no sample (ptp_ioctl() of drivers/ptp/ptp_chardev.c,
   * v5.4, checks only the upper bound and the reserved words).
   */
  sysOffsetExtended(nSamples: number): Timespec64[] {
    const fn = this.info.gettimex64;
    if (fn === undefined) throw new KvmError('EOPNOTSUPP', 'the clock has no gettimex64');
    if (!Number.isInteger(nSamples) || nSamples < 0 || nSamples > PTP_MAX_SAMPLES) {
      throw new KvmError('EINVAL', `n_samples ${nSamples} out of range`, 'n_samples');
    }
    const out: Timespec64[] = [];
    for (let i = 0; i < nSamples; i++) out.push(fn.call(this.info));
    return out;
  }

  /** models PTP_EXTTS_REQUEST / PTP_PEROUT_REQUEST: an index beyond n_ext_ts / n_per_out is -EINVAL. */
  request(kind: 'extts' | 'perout', index: number, on: boolean): void {
    const n = kind === 'extts' ? this.info.nExtTs : this.info.nPerOut;
    if (!Number.isInteger(index) || index < 0 || index >= n) throw new KvmError('EINVAL', `${kind} index ${index} ≥ ${n}`, 'index');
    this.info.enable(kind, on);
  }

  // --- posix clock (drivers/ptp/ptp_clock.c) ---

  /** models ptp_clock_gettime(). */
  clockGettime(): Timespec64 {
    return this.info.gettime64();
  }

  /** models ptp_clock_settime(). */
  clockSettime(ts: Timespec64): void {
    this.info.settime64(ts);
  }

  /** models ptp_clock_getres(): 1 ns. */
  clockGetres(): Timespec64 {
    return { sec: 0n, nsec: 1n };
  }

  /** models ptp_clock_adjtime(). */
  clockAdjtime(tx: Timex): void {
    if ((tx.modes & ADJ_SETOFFSET) !== 0) {
      const t = tx.time ?? { sec: 0n, usec: 0n };
      const nsec = (tx.modes & ADJ_NANO) !== 0 ? t.usec : t.usec * 1000n;
      if (nsec < 0n || nsec >= NSEC_PER_SEC) throw new KvmError('EINVAL', `ADJ_SETOFFSET nsec ${nsec} ≥ 1e9`, 'time');
      this.info.adjtime(timespec64ToNs({ sec: t.sec, nsec }));
    } else if ((tx.modes & ADJ_FREQUENCY) !== 0) {
      const freq = tx.freq ?? 0n;
      // scaled_ppm_to_ppb(): (1 + freq) × 125 >> 13, an arithmetic shift.
      const ppb = ((1n + freq) * 125n) >> 13n;
      const abs = ppb < 0n ? -ppb : ppb;
      if (abs > BigInt(this.info.maxAdj)) throw new KvmError('ERANGE', `${ppb} ppb beyond max_adj ${this.info.maxAdj}`, 'freq');
      this.info.adjfine(freq);
      this.dialedFrequency = freq;
    }
  }

  /** clock_adjtime with modes == 0 reads back the dialed frequency. */
  get frequency(): bigint {
    return this.dialedFrequency;
  }
}
