/** timespec64 ⇄ ns conversions (include/linux/time64.h), in bigint. */
import type { Timespec64 } from '../arch-hooks.js';

export const NSEC_PER_SEC = 1_000_000_000n; // include/vdso/time64.h

/** models ns_to_timespec64() (kernel/time/time.c): nsec is always in [0, 1e9). */
export function nsToTimespec64(ns: bigint): Timespec64 {
  let sec = ns / NSEC_PER_SEC;
  let nsec = ns % NSEC_PER_SEC;
  if (nsec < 0n) {
    sec -= 1n;
    nsec += NSEC_PER_SEC;
  }
  return { sec, nsec };
}

/** models timespec64_to_ns() (include/linux/time64.h). */
export const timespec64ToNs = (ts: Timespec64): bigint => ts.sec * NSEC_PER_SEC + ts.nsec;
