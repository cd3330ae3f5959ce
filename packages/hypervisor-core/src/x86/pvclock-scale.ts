/**
 * The fixed-point scale factors KVM gives the guest in pvclock_vcpu_time_info: a TSC delta
 * is shifted by `shift` and multiplied by the 32-bit fraction `mul` (ns = delta' × mul >> 32).
 * In core because both the kvmclock model (ptp-kvm-x86) and the live conformance (linux-kvm)
 * need the one kvm_get_time_scale().
 */
import { U32_MASK } from '../bigint.js';

export interface TimeScale {
  /** s8 tsc_shift. */
  readonly shift: number;
  /** u32 tsc_to_system_mul. */
  readonly mul: bigint;
}

const HIGH32 = 0xffff_ffff_0000_0000n;

/** models div_frac() (arch/x86/kvm/x86.c): (dividend << 32) / divisor as a u32. */
export function divFrac(dividend: bigint, divisor: bigint): bigint {
  return ((dividend << 32n) / divisor) & U32_MASK;
}

/**
 * models kvm_get_time_scale() (arch/x86/kvm/x86.c): the shift and 32-bit fraction that turn
 * ticks of `baseHz` into ticks of `scaledHz`. First the base is halved until it fits 32 bits
 * and is at most twice the target; then the pair is brought to base > target by halving the
 * target (while it does not fit or the base's top bit is set) or doubling the base.
 */
export function kvmGetTimeScale(scaledHz: bigint, baseHz: bigint): TimeScale {
  if (scaledHz <= 0n || baseHz <= 0n) throw new RangeError(`kvm_get_time_scale needs positive rates (${scaledHz}, ${baseHz})`);
  let tps64 = baseHz;
  let scaled64 = scaledHz;
  let shift = 0;
  while (tps64 > scaled64 * 2n || (tps64 & HIGH32) !== 0n) {
    tps64 >>= 1n;
    shift--;
  }
  let tps32 = tps64 & U32_MASK;
  while (tps32 <= scaled64 || (scaled64 & HIGH32) !== 0n) {
    if ((scaled64 & HIGH32) !== 0n || (tps32 & 0x8000_0000n) !== 0n) scaled64 >>= 1n;
    else tps32 <<= 1n;
    shift++;
  }
  return { shift, mul: divFrac(scaled64, tps32) };
}
