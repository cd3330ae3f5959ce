// The PHC character device and posix-clock calls, checked at every edge of their request
// validation (issue 22: mutation testing found the PTP clock request checks untested).
// Rules from drivers/ptp/ptp_chardev.c (ptp_ioctl) and drivers/ptp/ptp_clock.c
// (ptp_clock_adjtime, scaled_ppm_to_ppb) of Linux v5.4; PTP_MAX_SAMPLES = 25 (uapi ptp_clock.h).
import { isKvmError } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import {
  ADJ_FREQUENCY,
  ADJ_NANO,
  ADJ_SETOFFSET,
  GuestTimekeeper,
  PTP_MAX_SAMPLES,
  PtpClock,
  PtpClockRegistry,
  ptpKvmClockInfo,
  type PtpClockInfo,
  type Timespec64,
} from '../src/index.js';
import { FakeCounter, FakeHooks } from './helpers.js';

const errno = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return isKvmError(e) ? e.errno : `other: ${String(e)}`;
  }
};

/** A PHC driver that records what the core asks of it (a device with channels and max_adj). */
class RecordingInfo implements PtpClockInfo {
  readonly name = 'recording';
  readonly maxAdj: number;
  readonly nAlarm = 0;
  readonly nExtTs: number;
  readonly nPerOut: number;
  readonly nPins = 0;
  readonly pps: boolean;
  readonly calls: string[] = [];
  phc: Timespec64 = { sec: 42n, nsec: 7n };
  constructor(o: { maxAdj?: number; nExtTs?: number; nPerOut?: number; pps?: boolean } = {}) {
    this.maxAdj = o.maxAdj ?? 0;
    this.nExtTs = o.nExtTs ?? 0;
    this.nPerOut = o.nPerOut ?? 0;
    this.pps = o.pps ?? false;
  }
  adjfine(scaledPpm: bigint): void {
    this.calls.push(`adjfine ${scaledPpm}`);
  }
  adjtime(deltaNs: bigint): void {
    this.calls.push(`adjtime ${deltaNs}`);
  }
  gettime64(): Timespec64 {
    this.calls.push('gettime64');
    return this.phc;
  }
  settime64(ts: Timespec64): void {
    this.calls.push(`settime64 ${ts.sec}.${ts.nsec}`);
  }
  enable(request: string, on: boolean): void {
    this.calls.push(`enable ${request} ${on}`);
  }
}

const REALTIME = 1_700_000_000_000_000_000n;
const timekeeper = () => new GuestTimekeeper(new FakeCounter(), { realtimeNs: REALTIME });
const clockOf = (info: PtpClockInfo, index = 0, fd = 3) => new PtpClock(info, index, timekeeper(), fd);

describe('PTP_SYS_OFFSET: n_samples ≤ PTP_MAX_SAMPLES, 2n+1 stamps', () => {
  it.each([0, 1, 2, PTP_MAX_SAMPLES])('n = %d gives [sys, phc] × n then sys', (n) => {
    const info = new RecordingInfo();
    const st = clockOf(info).sysOffset(n);
    expect(st).toHaveLength(2 * n + 1);
    st.forEach((ts, i) => {
      if (i % 2 === 1) expect(ts).toEqual(info.phc);
      else expect(ts).toEqual({ sec: 1_700_000_000n, nsec: 0n });
    });
    expect(info.calls.filter((c) => c === 'gettime64')).toHaveLength(n);
  });

  it.each([PTP_MAX_SAMPLES + 1, 1000, -1, 1.5, Number.NaN])('n = %d is EINVAL and reads no clock', (n) => {
    const info = new RecordingInfo();
    expect(errno(() => clockOf(info).sysOffset(n))).toBe('EINVAL');
    expect(info.calls).toEqual([]);
  });
});

describe('PTP_SYS_OFFSET_EXTENDED: needs gettimex64 (checked first), n_samples ≤ PTP_MAX_SAMPLES', () => {
  const withTimex = () => {
    const info = new RecordingInfo();
    let k = 0n;
    const ext: PtpClockInfo = Object.assign(Object.create(info) as RecordingInfo, {
      gettimex64: () => ({ sec: 0n, nsec: k++ }),
    });
    return { info, ext };
  };

  it('a driver without gettimex64 is EOPNOTSUPP whatever n is', () => {
    for (const n of [1, 26, -1]) expect(errno(() => clockOf(new RecordingInfo()).sysOffsetExtended(n))).toBe('EOPNOTSUPP');
  });

  it.each([1, 2, PTP_MAX_SAMPLES])('n = %d takes n gettimex64 samples in order', (n) => {
    const { ext } = withTimex();
    const st = clockOf(ext).sysOffsetExtended(n);
    expect(st.map((t) => t.nsec)).toEqual(Array.from({ length: n }, (_, i) => BigInt(i)));
  });

  it('n = 0 is accepted and takes no sample (v5.4 checks only n_samples > PTP_MAX_SAMPLES)', () => {
    let calls = 0;
    const info = new RecordingInfo();
    const ext: PtpClockInfo = Object.assign(Object.create(info) as RecordingInfo, {
      gettimex64: () => {
        calls++;
        return { sec: 0n, nsec: 0n };
      },
    });
    expect(clockOf(ext).sysOffsetExtended(0)).toEqual([]);
    expect(calls).toBe(0);
  });

  it.each([PTP_MAX_SAMPLES + 1, -1, 2.5])('n = %d is EINVAL', (n) => {
    const { ext } = withTimex();
    expect(errno(() => clockOf(ext).sysOffsetExtended(n))).toBe('EINVAL');
  });
});

describe('PTP_SYS_OFFSET_PRECISE', () => {
  it('is EOPNOTSUPP for a driver without getcrosststamp', () => {
    expect(errno(() => clockOf(new RecordingInfo()).sysOffsetPrecise())).toBe('EOPNOTSUPP');
  });

  it("passes the driver's error through (ptp_kvm: the host refused the call)", () => {
    const hooks = new FakeHooks();
    const tk = timekeeper();
    const info = ptpKvmClockInfo(hooks, tk);
    hooks.getCrosststamp = () => {
      throw new (class extends Error {})('not a KvmError');
    };
    expect(() => new PtpClock(info, 0, tk).sysOffsetPrecise()).toThrow('not a KvmError');
  });
});

describe('PTP_EXTTS_REQUEST / PTP_PEROUT_REQUEST: index < n_ext_ts / n_per_out', () => {
  it('a valid index enables the channel of that kind, on or off', () => {
    const info = new RecordingInfo({ nExtTs: 2, nPerOut: 1 });
    const c = clockOf(info);
    c.request('extts', 0, true);
    c.request('extts', 1, false);
    c.request('perout', 0, true);
    expect(info.calls).toEqual(['enable extts true', 'enable extts false', 'enable perout true']);
  });

  it('each kind is bounded by its own count', () => {
    const info = new RecordingInfo({ nExtTs: 2, nPerOut: 1 });
    const c = clockOf(info);
    expect(errno(() => c.request('extts', 2, true))).toBe('EINVAL');
    expect(errno(() => c.request('perout', 1, true))).toBe('EINVAL');
    expect(errno(() => c.request('extts', 1, true))).toBe('ok');
  });

  it.each([-1, 0.5, Number.NaN])('index %d is EINVAL and enables nothing', (idx) => {
    const info = new RecordingInfo({ nExtTs: 4, nPerOut: 4 });
    expect(errno(() => clockOf(info).request('extts', idx, true))).toBe('EINVAL');
    expect(errno(() => clockOf(info).request('perout', idx, true))).toBe('EINVAL');
    expect(info.calls).toEqual([]);
  });
});

describe('clock_adjtime (ptp_clock_adjtime)', () => {
  it('ADJ_SETOFFSET takes usec, scaled to ns, and passes sec·1e9 + nsec to adjtime', () => {
    const info = new RecordingInfo();
    const c = clockOf(info);
    c.clockAdjtime({ modes: ADJ_SETOFFSET, time: { sec: 2n, usec: 999_999n } });
    c.clockAdjtime({ modes: ADJ_SETOFFSET, time: { sec: -1n, usec: 500_000n } });
    expect(info.calls).toEqual(['adjtime 2999999000', 'adjtime -500000000']);
  });

  it('with ADJ_NANO the field is already ns; 1e9 - 1 is the largest accepted', () => {
    const info = new RecordingInfo();
    const c = clockOf(info);
    c.clockAdjtime({ modes: ADJ_SETOFFSET | ADJ_NANO, time: { sec: 0n, usec: 999_999_999n } });
    expect(info.calls).toEqual(['adjtime 999999999']);
    expect(errno(() => c.clockAdjtime({ modes: ADJ_SETOFFSET | ADJ_NANO, time: { sec: 0n, usec: 1_000_000_000n } }))).toBe('EINVAL');
  });

  it('a sub-second part outside [0, 1e9) ns is EINVAL and adjusts nothing', () => {
    const info = new RecordingInfo();
    const c = clockOf(info);
    for (const usec of [1_000_000n, -1n]) {
      expect(errno(() => c.clockAdjtime({ modes: ADJ_SETOFFSET, time: { sec: 0n, usec } }))).toBe('EINVAL');
    }
    expect(errno(() => c.clockAdjtime({ modes: ADJ_SETOFFSET | ADJ_NANO, time: { sec: 0n, usec: -1n } }))).toBe('EINVAL');
    expect(info.calls).toEqual([]);
  });

  it('ADJ_SETOFFSET wins over ADJ_FREQUENCY in the same call (else-if in the kernel)', () => {
    const info = new RecordingInfo({ maxAdj: 1_000_000 });
    const c = clockOf(info);
    c.clockAdjtime({ modes: ADJ_SETOFFSET | ADJ_FREQUENCY, time: { sec: 0n, usec: 1n }, freq: 100n });
    expect(info.calls).toEqual(['adjtime 1000']);
    expect(c.frequency).toBe(0n);
  });

  it('modes 0 changes nothing', () => {
    const info = new RecordingInfo({ maxAdj: 1000 });
    clockOf(info).clockAdjtime({ modes: 0, freq: 65536n, time: { sec: 1n, usec: 0n } });
    expect(info.calls).toEqual([]);
  });

  it('ADJ_FREQUENCY: ppb = (1 + scaled_ppm)·125 >> 13 (an arithmetic shift) must be within ±max_adj', () => {
    const info = new RecordingInfo({ maxAdj: 1000 });
    const c = clockOf(info);
    // 65536 scaled ppm = 1 ppm = 1000 ppb: exactly max_adj.
    expect(errno(() => c.clockAdjtime({ modes: ADJ_FREQUENCY, freq: 65536n }))).toBe('ok');
    expect(c.frequency).toBe(65536n);
    // 65602 → (65603·125) >> 13 = 1001 ppb.
    expect(errno(() => c.clockAdjtime({ modes: ADJ_FREQUENCY, freq: 65602n }))).toBe('ERANGE');
    // -65536 → floor(-65535·125 / 8192) = -1000; -65538 → -1001.
    expect(errno(() => c.clockAdjtime({ modes: ADJ_FREQUENCY, freq: -65536n }))).toBe('ok');
    expect(errno(() => c.clockAdjtime({ modes: ADJ_FREQUENCY, freq: -65538n }))).toBe('ERANGE');
    expect(info.calls).toEqual(['adjfine 65536', 'adjfine -65536']);
    // A refused call keeps the frequency the last accepted one dialed.
    expect(c.frequency).toBe(-65536n);
  });

  it('ADJ_FREQUENCY without a freq field dials 0', () => {
    const info = new RecordingInfo({ maxAdj: 0 });
    const c = clockOf(info);
    c.clockAdjtime({ modes: ADJ_FREQUENCY });
    expect(info.calls).toEqual(['adjfine 0']);
  });
});

describe('the rest of the device', () => {
  it('GETCAPS reports the driver fields, pps as 0/1 and cross-timestamping only with getcrosststamp', () => {
    const info = new RecordingInfo({ maxAdj: 5, nExtTs: 2, nPerOut: 3, pps: true });
    expect(clockOf(info).getcaps()).toEqual({
      maxAdj: 5,
      nAlarm: 0,
      nExtTs: 2,
      nPerOut: 3,
      pps: 1,
      nPins: 0,
      crossTimestamping: 0,
      adjustPhase: 0,
      maxPhaseAdj: 0,
    });
  });

  it('path, clockid (FD_TO_CLOCKID: (~fd << 3) | 3), getres, gettime, settime go to the driver', () => {
    const info = new RecordingInfo();
    const c = clockOf(info, 4, 5);
    expect(c.devicePath).toBe('/dev/ptp4');
    expect(c.clockid).toBe((~5 << 3) | 3);
    expect(c.clockGetres()).toEqual({ sec: 0n, nsec: 1n });
    expect(c.clockGettime()).toEqual({ sec: 42n, nsec: 7n });
    c.clockSettime({ sec: 9n, nsec: 8n });
    expect(info.calls).toEqual(['gettime64', 'settime64 9.8']);
  });

  it('ptp_kvm implements no adjustment, settime or channel: each is EOPNOTSUPP', () => {
    const tk = timekeeper();
    const info = ptpKvmClockInfo(new FakeHooks(), tk);
    expect([info.maxAdj, info.nAlarm, info.nExtTs, info.nPerOut, info.nPins, info.pps]).toEqual([0, 0, 0, 0, 0, false]);
    expect(errno(() => info.adjfine(0n))).toBe('EOPNOTSUPP');
    expect(errno(() => info.adjtime(0n))).toBe('EOPNOTSUPP');
    expect(errno(() => info.settime64({ sec: 0n, nsec: 0n }))).toBe('EOPNOTSUPP');
    expect(errno(() => info.enable('extts', true))).toBe('EOPNOTSUPP');
  });

  it('the registry hands out the lowest free /dev/ptpN and counts the registered clocks', () => {
    const reg = new PtpClockRegistry();
    const info = new RecordingInfo();
    const tk = timekeeper();
    const mk = () => reg.register((i) => new PtpClock(info, i, tk));
    const [a, b, c] = [mk(), mk(), mk()];
    expect([a.index, b.index, c.index, reg.count]).toEqual([0, 1, 2, 3]);
    reg.unregister(b);
    expect(reg.count).toBe(2);
    expect(mk().index).toBe(1);
    expect(mk().index).toBe(3);
  });
});

describe('each error names the argument at fault (KvmError.argument)', () => {
  const arg = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (e) {
      return isKvmError(e) ? `${e.errno} ${e.argument}` : String(e);
    }
    return undefined;
  };
  it('n_samples, index, time, freq', () => {
    const info = new RecordingInfo({ maxAdj: 10 });
    const ext: PtpClockInfo = Object.assign(Object.create(info) as RecordingInfo, { gettimex64: () => ({ sec: 0n, nsec: 0n }) });
    expect(arg(() => clockOf(info).sysOffset(26))).toBe('EINVAL n_samples');
    expect(arg(() => clockOf(ext).sysOffsetExtended(26))).toBe('EINVAL n_samples');
    expect(arg(() => clockOf(info).request('extts', 0, true))).toBe('EINVAL index');
    expect(arg(() => clockOf(info).clockAdjtime({ modes: ADJ_SETOFFSET, time: { sec: 0n, usec: -1n } }))).toBe('EINVAL time');
    expect(arg(() => clockOf(info).clockAdjtime({ modes: ADJ_FREQUENCY, freq: 1n << 30n }))).toBe('ERANGE freq');
    // ADJ_SETOFFSET without a time field is an offset of 0.
    clockOf(info).clockAdjtime({ modes: ADJ_SETOFFSET });
    expect(info.calls).toEqual(['adjtime 0']);
  });
});

describe('ptp_kvm_init() and the unimplemented ops say what they are', () => {
  it('each EOPNOTSUPP names the op; an init failure other than EOPNOTSUPP logs at KERN_ERR (pr_err)', async () => {
    const { KvmError } = await import('@kvmlab/hypervisor-core');
    const { ptpKvmInit } = await import('../src/index.js');
    const info = ptpKvmClockInfo(new FakeHooks(), timekeeper());
    const msg = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    };
    expect(msg(() => info.adjfine(0n))).toContain('adjfine');
    expect(msg(() => info.adjtime(0n))).toContain('adjtime');
    expect(msg(() => info.settime64({ sec: 0n, nsec: 0n }))).toContain('settime64');
    expect(msg(() => info.enable('extts', true))).toContain('enable');
    const hooks = new FakeHooks();
    hooks.initError = new KvmError('EFAULT', 'x');
    const log: string[] = [];
    expect(() => ptpKvmInit(hooks, timekeeper(), { log: (level, m) => log.push(`${level}: ${m}`) })).toThrow();
    expect(log).toEqual(['err: fail to initialize ptp_kvm']);
  });
});
