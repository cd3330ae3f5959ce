/**
 * The PTP call's register encoding, shared by host and guest (Documentation/virt/kvm/arm/
 * ptp_kvm.rst): the 64-bit wall-clock ns and counter are each split into an upper and a lower
 * 32-bit half (RFC v4 change (5), after the Y2038 review), in x0/x1 and x2/x3.
 */
import { u32, u64 } from '@kvmlab/hypervisor-core';

/** Upper and lower 32 bits of a 64-bit value (upper_32_bits / lower_32_bits). */
export function splitHiLo(v: bigint): readonly [bigint, bigint] {
  const x = u64(v);
  return [x >> 32n, u32(x)];
}

/** The guest's `a_hi << 32 | a_lo` on 64-bit registers (no masking of a_lo, as in the driver). */
export function joinHiLo(hi: bigint, lo: bigint): bigint {
  return u64((u64(hi) << 32n) | u64(lo));
}
