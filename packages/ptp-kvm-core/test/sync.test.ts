import { describe, expect, it } from 'vitest';
import {
  chronyClockServo,
  convergenceIndex,
  medianFilter,
  piClockServo,
  FIRST_STEP_THRESHOLD_NS,
  GuestTimekeeper,
  measurePrecise,
  measureSysOffset,
  offsetStats,
  percentile,
  PI_KI_SCALE,
  PI_KP_SCALE,
  PiServo,
  ptpKvmInit,
} from '../src/index.js';
import { FakeCounter, FakeHooks } from './helpers.js';

describe('PI servo (linuxptp pi.c defaults)', () => {
  it('constants: kp 0.7, ki 0.3, first step threshold 20 µs', () => {
    expect([PI_KP_SCALE, PI_KI_SCALE, FIRST_STEP_THRESHOLD_NS]).toEqual([0.7, 0.3, 20_000]);
  });
  it('kp and ki are capped at 0.7/interval and 0.3/interval', () => {
    const s1 = new PiServo({ intervalS: 1 });
    const s8 = new PiServo({ intervalS: 8 });
    expect([s1.kp, s1.ki]).toEqual([0.7, 0.3]);
    expect([s8.kp, s8.ki]).toEqual([0.7 / 8, 0.3 / 8]);
  });
  it('estimates the frequency from the first two samples and asks for a step past the threshold', () => {
    const s = new PiServo({ intervalS: 1 });
    expect(s.sample(100_000, 0).state).toBe('unlocked');
    const o = s.sample(100_025, 1); // +25 ns per s: 25 ppb fast
    expect(o.state).toBe('jump');
    expect(o.ppb).toBeCloseTo(25, 6);
    expect(s.sample(10, 2)).toEqual({ state: 'locked', ppb: 25 + 0.7 * 10 + 0.3 * 10 });
  });
  it('locks a clock that drifts 25 ppm to within 1 ns in closed loop', () => {
    const s = new PiServo({ intervalS: 8 });
    let offset = 500_000; // ns
    let corr = 0;
    for (let k = 0; k < 200; k++) {
      const out = s.sample(offset, k * 8);
      if (out.state === 'jump') offset = 0;
      if (out.state !== 'unlocked') corr = -out.ppb;
      offset += (25_000 + corr) * 8; // ppb × s = ns
    }
    expect(Math.abs(offset)).toBeLessThan(1);
  });
});

describe('offset statistics', () => {
  it('mean, RMS, nearest-rank percentiles and max of |x|', () => {
    const st = offsetStats([-3, 1, 2, 4]);
    expect(st.meanNs).toBe(1);
    expect(st.rmsNs).toBeCloseTo(Math.sqrt(30 / 4), 12);
    expect(st.p50AbsNs).toBe(2);
    expect(st.maxAbsNs).toBe(4);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).toBe(10);
  });
  it('convergence is where |x| stays within the bound to the end', () => {
    expect(convergenceIndex([50, 3, 40, 2, 1, 0], 10)).toBe(3);
    expect(convergenceIndex([1, 2, 30], 10)).toBeUndefined();
  });
});

describe('measurement methods', () => {
  it('PRECISE: offset = sys_realtime − device at the crosststamp counter', () => {
    const cs = new FakeCounter();
    const tk = new GuestTimekeeper(cs, { realtimeNs: 1_000_000n });
    const hooks = new FakeHooks();
    hooks.device = 999_000n;
    hooks.cycles = 1_000n;
    const s = measurePrecise(ptpKvmInit(hooks, tk).clock);
    expect(s.offsetNs).toBe(1_000n);
  });
  it('SYS_OFFSET: the shortest bracket wins and its midpoint is compared', () => {
    const cs = new FakeCounter();
    const tk = new GuestTimekeeper(cs, { realtimeNs: 0n });
    const hooks = new FakeHooks();
    let call = 0;
    const widths = [100n, 20n, 60n];
    // Each PHC read advances the guest counter by the bracket width of that sample.
    hooks.getClock = () => {
      cs.value += widths[call++]!;
      return { sec: 0n, nsec: 0n };
    };
    const s = measureSysOffset(ptpKvmInit(hooks, tk).clock, 3);
    expect(s.delayNs).toBe(20n);
    expect(s.offsetNs).toBe(100n + 10n); // t1 = 100 (after the first sample), midpoint 110, phc 0
  });
});

describe('chrony-like servo', () => {
  it('the median filter drops the ~40 % of readings farthest from the median and averages the rest', () => {
    const f = medianFilter([0, 1, 2, 3, 4, 5, 6, 7, 8, 1000].map((off, t) => ({ t, off })));
    expect(f.off).toBe((3 + 4 + 5 + 6 + 7 + 2) / 6);
  });
  it('removes a 500 µs offset and a 25 ppm drift by slewing, without a step', () => {
    const s = chronyClockServo({ pollLog2: 3, dpollLog2: -2 });
    expect(s.sampleIntervalS).toBe(0.25);
    let offset = 500_000;
    let corr = 0;
    let steps = 0;
    for (let k = 1; k <= 4 * 600; k++) {
      offset += (25_000 + corr) * 0.25;
      const a = s.sample(offset, k * 0.25);
      if (a.stepNs !== undefined) steps++;
      if (a.freqPpb !== undefined) corr = a.freqPpb;
    }
    expect(steps).toBe(0);
    expect(Math.abs(offset)).toBeLessThan(1);
    expect(corr).toBeCloseTo(-25_000, 0);
  });
  it('steps only past makestep (1 s)', () => {
    const s = chronyClockServo({ pollLog2: 0, dpollLog2: 0 });
    expect(s.sample(2e9, 1)).toEqual({ stepNs: -2e9 });
  });
  it('the PI servo contract: first sample nothing, then step by −offset and dial −ppb', () => {
    const s = piClockServo(0);
    expect(s.sample(100_000, 0)).toEqual({});
    const a = s.sample(100_025, 1);
    expect(a.stepNs).toBe(-100_025);
    expect(a.freqPpb).toBeCloseTo(-25, 6);
  });
});
