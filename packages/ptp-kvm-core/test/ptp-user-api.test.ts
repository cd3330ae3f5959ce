import { isKvmError } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import {
  ADJ_FREQUENCY,
  ADJ_NANO,
  ADJ_SETOFFSET,
  fdToClockid,
  GuestTimekeeper,
  PTP_CLOCK_GETCAPS,
  PTP_KVM_CLOCK_NAME,
  PTP_MAX_SAMPLES,
  PTP_SYS_OFFSET,
  PTP_SYS_OFFSET_EXTENDED,
  PTP_SYS_OFFSET_PRECISE,
  PTP_SYS_OFFSET_PRECISE2,
  PTP_SYS_OFFSET2,
  ptpKvmInit,
  PtpClockRegistry,
} from '../src/index.js';
import { FakeCounter, FakeHooks } from './helpers.js';

function setup() {
  const cs = new FakeCounter();
  const tk = new GuestTimekeeper(cs, { realtimeNs: 1_700_000_000_000_000_000n });
  const hooks = new FakeHooks();
  const drv = ptpKvmInit(hooks, tk);
  return { cs, tk, hooks, drv, ptp: drv.clock };
}

const errno = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (isKvmError(e)) return e.errno;
    throw e;
  }
  return 'ok';
};

describe('PTP clock ABI constants (include/uapi/linux/ptp_clock.h)', () => {
  it('ioctl numbers are the kernel values', () => {
    expect(PTP_SYS_OFFSET).toBe(0x43403d05);
    expect(PTP_SYS_OFFSET_PRECISE).toBe(0xc0403d08);
    expect(PTP_CLOCK_GETCAPS).toBe(0x80503d01);
    expect(PTP_SYS_OFFSET_EXTENDED).toBe(0xc4c03d09);
    expect(PTP_SYS_OFFSET2).toBe(0x43403d0e);
    expect(PTP_SYS_OFFSET_PRECISE2).toBe(0xc0403d11);
    expect(PTP_MAX_SAMPLES).toBe(25);
    expect(PTP_KVM_CLOCK_NAME).toBe('KVM virtual PTP');
  });
  it('case 37: FD_TO_CLOCKID(3) = -29', () => {
    expect(fdToClockid(3)).toBe(-29);
  });
});

describe('ptp_kvm_common', () => {
  it('registers "KVM virtual PTP" with max_adj 0, no pins, cross-timestamping', () => {
    const { ptp } = setup();
    expect(ptp.info.name).toBe('KVM virtual PTP');
    expect(ptp.devicePath).toBe('/dev/ptp0');
    expect(ptp.getcaps()).toEqual({ maxAdj: 0, nAlarm: 0, nExtTs: 0, nPerOut: 0, pps: 0, nPins: 0, crossTimestamping: 1, adjustPhase: 0, maxPhaseAdj: 0 });
  });
  it('init failure: -EOPNOTSUPP is silent, any other error logs "fail to initialize ptp_kvm", no clock registered', async () => {
    const { KvmError } = await import('@kvmlab/hypervisor-core');
    for (const [err, logged] of [['EOPNOTSUPP', false], ['EFAULT', true]] as const) {
      const hooks = new FakeHooks();
      hooks.initError = new KvmError(err, 'x');
      const reg = new PtpClockRegistry();
      const log: string[] = [];
      const tk = new GuestTimekeeper(new FakeCounter(), { realtimeNs: 0n });
      expect(errno(() => ptpKvmInit(hooks, tk, { registry: reg, log: (_l, m) => log.push(m) }))).toBe(err);
      expect(log.includes('fail to initialize ptp_kvm')).toBe(logged);
      expect(reg.count).toBe(0);
    }
  });
  it('takes the lowest free /dev/ptpN and exit releases it and calls kvm_arch_ptp_exit', () => {
    const reg = new PtpClockRegistry();
    const tk = new GuestTimekeeper(new FakeCounter(), { realtimeNs: 0n });
    const h0 = new FakeHooks();
    const a = ptpKvmInit(h0, tk, { registry: reg });
    const b = ptpKvmInit(new FakeHooks(), tk, { registry: reg });
    expect([a.clock.index, b.clock.index]).toEqual([0, 1]);
    a.exit();
    expect(h0.exited).toBe(true);
    expect(ptpKvmInit(new FakeHooks(), tk, { registry: reg }).clock.index).toBe(0);
  });
  it('case 35: PTP_SYS_OFFSET_EXTENDED → EOPNOTSUPP; PTP_SYS_OFFSET n=26 → EINVAL; n=2 → 5 stamps [sys, phc, sys, phc, sys]', () => {
    const { ptp, hooks } = setup();
    expect(errno(() => ptp.sysOffsetExtended(3))).toBe('EOPNOTSUPP');
    expect(errno(() => ptp.sysOffset(26))).toBe('EINVAL');
    const st = ptp.sysOffset(2);
    expect(st).toHaveLength(5);
    expect(st[1]).toEqual({ sec: 1_700_000_000n, nsec: 123_456_789n });
    expect(st[3]).toEqual(st[1]);
    expect(hooks.calls).toBe(2);
  });
  it('case 33: clock_adjtime ADJ_FREQUENCY: 65536 and 65 → ERANGE, 64 → EOPNOTSUPP, -2 → ERANGE; modes 0 → 0', () => {
    const { ptp } = setup();
    expect(errno(() => ptp.clockAdjtime({ modes: ADJ_FREQUENCY, freq: 65536n }))).toBe('ERANGE');
    expect(errno(() => ptp.clockAdjtime({ modes: ADJ_FREQUENCY, freq: 65n }))).toBe('ERANGE');
    expect(errno(() => ptp.clockAdjtime({ modes: ADJ_FREQUENCY, freq: 64n }))).toBe('EOPNOTSUPP');
    expect(errno(() => ptp.clockAdjtime({ modes: ADJ_FREQUENCY, freq: -2n }))).toBe('ERANGE');
    expect(errno(() => ptp.clockAdjtime({ modes: 0 }))).toBe('ok');
    expect(ptp.frequency).toBe(0n); // nothing succeeded, so nothing was dialed
  });
  it('case 34: clock_settime → EOPNOTSUPP; ADJ_SETOFFSET usec=1000000 → EINVAL, 0 → EOPNOTSUPP; with ADJ_NANO nsec=1e9-1 → EOPNOTSUPP', () => {
    const { ptp } = setup();
    expect(errno(() => ptp.clockSettime({ sec: 1n, nsec: 0n }))).toBe('EOPNOTSUPP');
    expect(errno(() => ptp.clockAdjtime({ modes: ADJ_SETOFFSET, time: { sec: 0n, usec: 1_000_000n } }))).toBe('EINVAL');
    expect(errno(() => ptp.clockAdjtime({ modes: ADJ_SETOFFSET, time: { sec: 0n, usec: 0n } }))).toBe('EOPNOTSUPP');
    expect(errno(() => ptp.clockAdjtime({ modes: ADJ_SETOFFSET | ADJ_NANO, time: { sec: 0n, usec: 999_999_999n } }))).toBe('EOPNOTSUPP');
  });
  it('getres is 1 ns, gettime reads kvm_arch_ptp_get_clock, EXTTS/PEROUT index 0 → EINVAL', () => {
    const { ptp } = setup();
    expect(ptp.clockGetres()).toEqual({ sec: 0n, nsec: 1n });
    expect(ptp.clockGettime()).toEqual({ sec: 1_700_000_000n, nsec: 123_456_789n });
    expect(errno(() => ptp.request('extts', 0, true))).toBe('EINVAL');
    expect(errno(() => ptp.request('perout', 0, true))).toBe('EINVAL');
  });
  it('PTP_SYS_OFFSET_PRECISE fills device, sys_realtime, sys_monoraw from the timekeeper at the reported cycles', () => {
    const { ptp, hooks, cs, tk } = setup();
    cs.value = 5_000n;
    hooks.cycles = 3_000n; // 2000 ns after the first read at 1000
    const r = ptp.sysOffsetPrecise();
    expect(r.device).toEqual({ sec: 1_700_000_000n, nsec: 123_456_789n });
    expect(r.sysRealtime).toEqual({ sec: 1_700_000_000n, nsec: 2_000n });
    expect(r.sysMonoraw).toEqual({ sec: 0n, nsec: 2_000n });
    expect(tk.stats.crosststampRetries).toBe(0);
  });
});
