/**
 * The offset measurements a guest servo takes from the ptp_kvm PHC, in guest userspace terms
 * (offset = guest CLOCK_REALTIME − PHC):
 * - PTP_SYS_OFFSET_PRECISE: sys_realtime − device of one cross-timestamp (chrony mode 2,
 *   linuxptp sysoff_precise);
 * - PTP_SYS_OFFSET: n bracketed reads; the sample with the shortest bracket wins and its
 *   midpoint is compared with the PHC reading (linuxptp sysoff_estimate; chrony mode 1).
 */
import type { PtpClock } from '../ptp/ptp-clock.js';
import { timespec64ToNs } from '../guest/timespec.js';

export interface OffsetSample {
  /** Guest CLOCK_REALTIME − PHC, ns. */
  readonly offsetNs: bigint;
  /** Guest CLOCK_REALTIME when it was taken, ns. */
  readonly localNs: bigint;
  /** The bracket (t2 − t1) for PTP_SYS_OFFSET, 0 for a cross-timestamp. */
  readonly delayNs: bigint;
}

/** One PTP_SYS_OFFSET_PRECISE reading. */
export function measurePrecise(ptp: PtpClock): OffsetSample {
  const r = ptp.sysOffsetPrecise();
  const sys = timespec64ToNs(r.sysRealtime);
  return { offsetNs: sys - timespec64ToNs(r.device), localNs: sys, delayNs: 0n };
}

/** PTP_SYS_OFFSET with n samples; the shortest bracket is used (linuxptp sysoff.c sysoff_estimate). */
export function measureSysOffset(ptp: PtpClock, nSamples: number): OffsetSample {
  const ts = ptp.sysOffset(nSamples).map(timespec64ToNs);
  let best: OffsetSample | undefined;
  for (let i = 0; i < nSamples; i++) {
    const t1 = ts[2 * i]!;
    const phc = ts[2 * i + 1]!;
    const t2 = ts[2 * i + 2]!;
    const delay = t2 - t1;
    const mid = t1 + delay / 2n;
    if (best === undefined || delay < best.delayNs) best = { offsetNs: mid - phc, localNs: mid, delayNs: delay };
  }
  if (best === undefined) throw new RangeError('PTP_SYS_OFFSET needs at least one sample');
  return best;
}
