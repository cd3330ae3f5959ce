import { isKvmError, KvmError } from '@kvmlab/hypervisor-core';
import { fc, test as ftest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { GuestTimekeeper, nsToTimespec64, timespec64ToNs } from '../src/index.js';
import { FakeCounter } from './helpers.js';

const runs = process.env.KVMLAB_SOAK ? 2000 : 100;

describe('get_device_system_crosststamp', () => {
  const mk = () => {
    const cs = new FakeCounter(1_000_000_000n);
    const tk = new GuestTimekeeper(cs, { realtimeNs: 10_000n });
    return { cs, tk };
  };
  const code = (fn: () => unknown): string => {
    try {
      fn();
      return 'ok';
    } catch (e) {
      return isKvmError(e) ? e.errno : 'throw';
    }
  };
  it('a counter of another clocksource → ENODEV (case 32 on the common layer), CSID_GENERIC → ENODEV', () => {
    const { tk } = mk();
    expect(code(() => tk.getDeviceSystemCrosststamp(() => ({ device: 0n, cycles: 1000n, csId: 'CSID_X86_KVM_CLK' })))).toBe('ENODEV');
    expect(code(() => tk.getDeviceSystemCrosststamp(() => ({ device: 0n, cycles: 1000n, csId: 'CSID_GENERIC' })))).toBe('ENODEV');
  });
  it('case 38: cycles beyond now (an offset mismatch) → EINVAL; before cycle_last → EINVAL; both bounds are inclusive', () => {
    const { tk, cs } = mk();
    cs.value = 2_000n;
    expect(code(() => tk.getDeviceSystemCrosststamp(() => ({ device: 0n, cycles: 2_001n, csId: 'CSID_ARM_ARCH_COUNTER' })))).toBe('EINVAL');
    expect(code(() => tk.getDeviceSystemCrosststamp(() => ({ device: 0n, cycles: 999n, csId: 'CSID_ARM_ARCH_COUNTER' })))).toBe('EINVAL');
    expect(code(() => tk.getDeviceSystemCrosststamp(() => ({ device: 0n, cycles: 2_000n, csId: 'CSID_ARM_ARCH_COUNTER' })))).toBe('ok');
    expect(code(() => tk.getDeviceSystemCrosststamp(() => ({ device: 0n, cycles: 1_000n, csId: 'CSID_ARM_ARCH_COUNTER' })))).toBe('ok');
  });
  it('case 38: a timekeeper update during the callback re-runs it instead of failing', () => {
    const { tk, cs } = mk();
    let calls = 0;
    const r = tk.getDeviceSystemCrosststamp(() => {
      calls++;
      cs.value += 500n;
      if (calls === 1) tk.accumulate(); // cycle_last moves past the first reading
      return { device: 7n, cycles: cs.value, csId: 'CSID_ARM_ARCH_COUNTER' };
    });
    expect(calls).toBe(2);
    expect(tk.stats.crosststampRetries).toBe(1);
    expect(r.device).toBe(7n);
  });
  it('callback errors pass through unchanged', () => {
    const { tk } = mk();
    expect(code(() => tk.getDeviceSystemCrosststamp(() => { throw new KvmError('EOPNOTSUPP', 'x'); }))).toBe('EOPNOTSUPP');
  });
});

describe('guest clock adjustment', () => {
  it('a +100 ppm frequency correction makes 1 s of counter read 1.0001 s', () => {
    const cs = new FakeCounter(25_000_000n);
    const tk = new GuestTimekeeper(cs, { realtimeNs: 0n });
    tk.adjFrequencyPpb(100_000);
    const t0 = tk.realtime();
    cs.value += 25_000_000n;
    expect(tk.realtime() - t0).toBe(1_000_100_000n);
  });
  it('ADJ_FREQUENCY is clamped to ±500 ppm (MAXFREQ)', () => {
    const tk = new GuestTimekeeper(new FakeCounter(), { realtimeNs: 0n });
    tk.adjFrequencyPpb(900_000);
    expect(tk.frequencyPpb).toBe(500_000);
  });
  it('a step moves CLOCK_REALTIME and not CLOCK_MONOTONIC_RAW', () => {
    const tk = new GuestTimekeeper(new FakeCounter(), { realtimeNs: 5_000n });
    const raw = tk.monotonicRaw();
    tk.step(-3_000n);
    expect(tk.realtime()).toBe(2_000n);
    expect(tk.monotonicRaw()).toBe(raw);
  });
  ftest.prop([fc.array(fc.tuple(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: -500_000, max: 500_000 })), { maxLength: 20 })], { numRuns: runs })(
    'CLOCK_REALTIME never jumps at a frequency change and never runs backwards without a step',
    (ops) => {
      const cs = new FakeCounter(25_000_000n);
      const tk = new GuestTimekeeper(cs, { realtimeNs: 1_569_456_000_000_000_000n });
      let last = tk.realtime();
      for (const [ticks, ppb] of ops) {
        cs.value += BigInt(ticks);
        const before = tk.realtime();
        expect(before >= last).toBe(true);
        tk.adjFrequencyPpb(ppb);
        expect(tk.realtime()).toBe(before);
        last = before;
      }
    },
  );
  ftest.prop([fc.bigInt({ min: -(1n << 62n), max: 1n << 62n })], { numRuns: runs })('ns_to_timespec64 round-trips and keeps nsec in [0, 1e9)', (ns) => {
    const ts = nsToTimespec64(ns);
    expect(ts.nsec >= 0n && ts.nsec < 1_000_000_000n).toBe(true);
    expect(timespec64ToNs(ts)).toBe(ns);
  });
});
