import { describe, expect, it } from 'vitest';
import { clocksCalcMultShift, clocksourceInfo, cyc2ns } from '../src/host/clocksource.js';
import { HostClock } from '../src/host/host-clock.js';
import { Scheduler } from '../src/sim/scheduler.js';

const clock = (opts: ConstructorParameters<typeof HostClock>[2] = {}) => {
  const sim = new Scheduler();
  return { sim, host: new HostClock(sim, { clocksource: 'arch_sys_counter', counterHz: 25_000_000n }, opts) };
};

describe('clocks_calc_mult_shift', () => {
  // Hand-computed: maxsec*from = 1.5e10 → 2 bits above 32 → sftacc 30; mult = 40 << shift must
  // stay below 2^30, so shift = 24 and mult = 40 * 2^24.
  it('25 MHz → ns over 600 s: mult 671088640, shift 24', () => {
    expect(clocksCalcMultShift(25_000_000n, 1_000_000_000n, 600n)).toEqual({ mult: 671_088_640n, shift: 24n });
  });
  // 1 GHz → ns: mult = 2^shift; 600e9 >> 32 = 139 (8 bits) → sftacc 24 → shift 23.
  it('1 GHz → ns over 600 s: mult 2^23, shift 23', () => {
    expect(clocksCalcMultShift(1_000_000_000n, 1_000_000_000n, 600n)).toEqual({ mult: 1n << 23n, shift: 23n });
  });
  it('converts cycles exactly', () => {
    expect(cyc2ns(25_000_000n, { mult: 671_088_640n, shift: 24n })).toBe(1_000_000_000n);
  });
});

describe('HostClock', () => {
  it('counter and realtime advance with virtual time; realtime above 2^53 stays exact', () => {
    const { sim, host } = clock({ counterHz: 1_000_000_000n, realtimeStartNs: 1_700_000_000_123_456_789n });
    expect(host.realtime()).toBe(1_700_000_000_123_456_789n);
    sim.runUntil(1n);
    expect(host.counter()).toBe(1n);
    expect(host.realtime()).toBe(1_700_000_000_123_456_790n);
    expect(host.realtime() > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
  });

  it('a counter near 2^64 wraps and timekeeping continues across the wrap', () => {
    const { sim, host } = clock({ clocksource: 'tsc', counterHz: 1_000_000_000n, counterStart: (1n << 64n) - 1000n, realtimeStartNs: 0n });
    sim.runUntil(2000n);
    expect(host.counter()).toBe(1000n);
    expect(host.realtime()).toBe(2000n);
    expect(host.monotonicRaw()).toBe(2000n);
  });

  it('a 56-bit arch counter wraps through its mask', () => {
    const { sim, host } = clock({ counterHz: 1_000_000_000n, counterStart: (1n << 56n) - 10n, realtimeStartNs: 0n });
    sim.runUntil(30n);
    expect(host.realtime()).toBe(30n);
  });

  it('drift makes realtime run fast by the drift; an NTP frequency correction takes it out', () => {
    const { sim, host } = clock({ driftPpm: 25, realtimeStartNs: 0n });
    sim.runUntil(1_000_000_000n);
    const err = host.realtime() - host.trueRealtime();
    expect(err).toBe(25_000n); // 25 ppm of 1 s
    host.adjustFrequency(-24_999.375); // (1 + 25e-6)(1 - x) = 1
    const before = host.realtime() - host.trueRealtime();
    sim.runUntil(11_000_000_000n);
    const drift10s = host.realtime() - host.trueRealtime() - before;
    expect(drift10s >= -100n && drift10s <= 100n).toBe(true);
    // MONOTONIC_RAW is never adjusted: it keeps the raw 25 ppm.
    expect(host.monotonicRaw()).toBe(11_000_275_000n);
  });

  it('ktimeGetSnapshot returns one instant: realtime and raw are those of its cycles', () => {
    const { sim, host } = clock();
    sim.runUntil(123_456_789n);
    const s = host.ktimeGetSnapshot();
    expect(s.csId).toBe('CSID_ARM_ARCH_COUNTER');
    expect(host.cyclesToTimes(s.cycles)).toEqual({ real: s.real, raw: s.raw });
    expect(s.cycles).toBe((123_456_789n * 25n) / 1000n);
  });

  it('stepRealtime steps realtime only', () => {
    const { host } = clock({ realtimeStartNs: 1000n });
    host.stepRealtime(-500n);
    expect(host.realtime()).toBe(500n);
    expect(host.monotonicRaw()).toBe(0n);
  });

  it('names clocksources as the kernel does', () => {
    expect(clocksourceInfo('arch_sys_counter')).toMatchObject({ id: 'CSID_ARM_ARCH_COUNTER', maskBits: 56 });
    expect(clocksourceInfo('tsc')).toMatchObject({ id: 'CSID_X86_TSC', vdsoClockMode: 'tsc' });
    expect(clocksourceInfo('hpet')).toMatchObject({ id: 'CSID_GENERIC', vdsoClockMode: 'none' });
    expect(clocksourceInfo('kvm-clock').id).toBe('CSID_X86_KVM_CLK');
  });

  it('rejects impossible options', () => {
    expect(() => clock({ counterHz: 0n })).toThrow(RangeError);
    expect(() => clock({ driftPpm: Number.NaN })).toThrow(RangeError);
  });
});
