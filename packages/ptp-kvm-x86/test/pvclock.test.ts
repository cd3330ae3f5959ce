import { fc, test as ftest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { kvmGetTimeScale, pvclockReadCycles, pvclockScaleDelta, pvclockTscKhz } from '../src/index.js';

const RUNS = process.env['KVMLAB_SOAK'] !== undefined ? 20_000 : 300;
const M64 = 1n << 64n;

/** A straightforward reference: exact rational arithmetic, then floor and reduce mod 2^64. */
function reference(tscTimestamp: bigint, systemTime: bigint, mul: bigint, shift: number, tsc: bigint): bigint {
  let delta = (((tsc - tscTimestamp) % M64) + M64) % M64;
  if (shift >= 0) delta = (delta * 2n ** BigInt(shift)) % M64;
  else delta = delta / 2n ** BigInt(-shift);
  const off = (delta * mul) / 2n ** 32n; // < 2^64 since delta < 2^64 and mul < 2^32
  return (systemTime + off) % M64;
}

const u64 = fc.bigInt({ min: 0n, max: M64 - 1n });

describe('__pvclock_read_cycles (bigint, 128-bit product, u64 wrap)', () => {
  it('case 29: tsc_timestamp=1e9, system_time=5e9, mul=0x80000000, shift=0, tsc=1e9+2e6 → 5001000000', () => {
    const src = { tscTimestamp: 1_000_000_000n, systemTime: 5_000_000_000n, tscToSystemMul: 0x8000_0000n, tscShift: 0 };
    expect(pvclockReadCycles(src, 1_002_000_000n)).toBe(5_001_000_000n);
  });
  it('case 30: tsc_timestamp=0x10000, system_time=1000, mul=0xA0000000, shift=+1, tsc=0x10000+1000 → 2250', () => {
    const src = { tscTimestamp: 0x10000n, systemTime: 1000n, tscToSystemMul: 0xa000_0000n, tscShift: 1 };
    expect(pvclockReadCycles(src, 0x10000n + 1000n)).toBe(2250n);
  });
  it('a TSC below tsc_timestamp wraps (u64) instead of going negative', () => {
    const src = { tscTimestamp: 10n, systemTime: 0n, tscToSystemMul: 0x1_0000n, tscShift: 0 };
    // delta = 2^64 - 1; (2^64-1) * 2^16 >> 32 = 2^48 - 1 (a double would have lost the low bits)
    expect(pvclockReadCycles(src, 9n)).toBe((1n << 48n) - 1n);
  });
  it('the product keeps all 96 bits: delta near 2^64 times mul near 2^32', () => {
    expect(pvclockScaleDelta(M64 - 1n, 0xffff_ffffn, 0)).toBe(((M64 - 1n) * 0xffff_ffffn) >> 32n);
  });
  it('a left shift drops the bits above 64, as the kernel u64 does', () => {
    expect(pvclockScaleDelta(1n << 63n, 1n << 31n, 1)).toBe(0n);
  });

  ftest.prop([u64, u64, fc.bigInt({ min: 0n, max: 0xffff_ffffn }), fc.integer({ min: -31, max: 31 }), u64], { numRuns: RUNS })(
    'matches a straightforward exact-arithmetic reference for every input',
    (ts, sys, mul, shift, tsc) => {
      expect(pvclockReadCycles({ tscTimestamp: ts, systemTime: sys, tscToSystemMul: mul, tscShift: shift }, tsc)).toBe(reference(ts, sys, mul, shift, tsc));
    },
  );

  ftest.prop([fc.bigInt({ min: 1_000_000n, max: 10_000_000_000n }), fc.bigInt({ min: 0n, max: 1n << 40n })], { numRuns: RUNS })(
    'with kvm_get_time_scale(1e9, hz) the conversion is within 1 ns + 1e-9 relative of delta × 1e9 / hz',
    (hz, delta) => {
      const s = kvmGetTimeScale(1_000_000_000n, hz);
      const got = pvclockReadCycles({ tscTimestamp: 0n, systemTime: 0n, tscToSystemMul: s.mul, tscShift: s.shift }, delta);
      const exact = (delta * 1_000_000_000n) / hz;
      const err = got > exact ? got - exact : exact - got;
      expect(err <= 1n + exact / 1_000_000_000n + 1n).toBe(true);
    },
  );
});

describe('kvm_get_time_scale', () => {
  it('2.5 GHz TSC → shift -1, mul = 0.8 × 2^32 (truncated)', () => {
    expect(kvmGetTimeScale(1_000_000_000n, 2_500_000_000n)).toEqual({ shift: -1, mul: 3435973836n });
  });
  it('1 GHz TSC: base not above target, so the base is doubled once (shift +1, mul 0.5 × 2^32)', () => {
    expect(kvmGetTimeScale(1_000_000_000n, 1_000_000_000n)).toEqual({ shift: 1, mul: 0x8000_0000n });
  });
  it('a base above 2^32 Hz is halved until it fits and is ≤ 2 × target (5 GHz → 1.25 GHz, shift -2)', () => {
    const s = kvmGetTimeScale(1_000_000_000n, 5_000_000_000n);
    expect(s.shift).toBe(-2);
    expect(s.mul).toBe((1_000_000_000n << 32n) / 1_250_000_000n);
  });
  it('refuses a zero rate (KVM never calls it with one)', () => {
    expect(() => kvmGetTimeScale(1_000_000_000n, 0n)).toThrow(RangeError);
  });
  ftest.prop([fc.bigInt({ min: 1000n, max: 1n << 40n })], { numRuns: RUNS })('mul fits 32 bits and is at least 2^31 (normalised)', (hz) => {
    const s = kvmGetTimeScale(1_000_000_000n, hz);
    expect(s.mul < 1n << 32n && s.mul >= 1n << 31n).toBe(true);
  });
});

describe('pvclock_tsc_khz (the guest calibrates its TSC from kvmclock)', () => {
  it('2.5 GHz: mul 3435973836, shift -1 → 2500000 kHz', () => {
    expect(pvclockTscKhz({ tscToSystemMul: 3435973836n, tscShift: -1 })).toBe(2_500_000n);
  });
  it('a zero mul (area not written yet) gives 0 instead of dividing by zero', () => {
    expect(pvclockTscKhz({ tscToSystemMul: 0n, tscShift: 0 })).toBe(0n);
  });
  ftest.prop([fc.bigInt({ min: 1_000_000n, max: 5_000_000n })], { numRuns: RUNS })('inverts kvm_get_time_scale to within 0.0001%', (khz) => {
    const s = kvmGetTimeScale(1_000_000_000n, khz * 1000n);
    const got = pvclockTscKhz({ tscToSystemMul: s.mul, tscShift: s.shift });
    const err = got > khz ? got - khz : khz - got;
    expect(err * 1_000_000n <= khz).toBe(true);
  });
});
