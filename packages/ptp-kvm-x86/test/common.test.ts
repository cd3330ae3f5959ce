/** The x86 hooks under ptp-kvm-core's common driver (ptp_kvm_common.c) and PHC API: spec cases 23, 24, 32–35. */
import { isKvmError } from '@kvmlab/hypervisor-core';
import { ADJ_FREQUENCY, ADJ_SETOFFSET, GuestTimekeeper, ptpKvmInit, type PtpKvmDriver } from '@kvmlab/ptp-kvm-core';
import { describe, expect, it } from 'vitest';
import { KvmclockGuest, kvmClockClocksource, PtpKvmX86Guest, tscClocksource } from '../src/index.js';
import { CLOCK_PAIR_GPA, PVTI_GPA, RAM_SIZE, x86Rig } from './helpers.js';

type RigOpts = Parameters<typeof x86Rig>[0];

function boot(opts: RigOpts & { clocksource?: 'kvm-clock' | 'tsc'; clockPairGpa?: bigint } = {}) {
  const rig = x86Rig(opts);
  rig.hv.sim.runFor(1_000_000n);
  const kvmclock = new KvmclockGuest(rig.vcpu, { pvtiGpa: PVTI_GPA });
  kvmclock.init();
  const cs = opts.clocksource === 'tsc' ? tscClocksource(rig.vcpu, kvmclock) : kvmClockClocksource(kvmclock);
  const tk = new GuestTimekeeper(cs, { realtimeNs: rig.hv.host.realtime() });
  const hooks = new PtpKvmX86Guest(rig.vcpu, { kvmclock, clockPairGpa: opts.clockPairGpa ?? CLOCK_PAIR_GPA });
  const log: string[] = [];
  let driver: PtpKvmDriver | undefined;
  let initErrno: string | undefined;
  try {
    driver = ptpKvmInit(hooks, tk, { log: (_l, m) => log.push(m) });
  } catch (e) {
    initErrno = isKvmError(e) ? e.errno : String(e);
  }
  return { ...rig, tk, hooks, driver, initErrno, log };
}

const errnoOf = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    return isKvmError(e) ? e.errno : `not a KvmError: ${String(e)}`;
  }
};

describe('x86 ptp_kvm under the common driver', () => {
  it('init succeeds on a TSC host: /dev/ptp0 "KVM virtual PTP" with cross-timestamping', () => {
    const { driver, initErrno } = boot();
    expect(initErrno).toBeUndefined();
    expect(driver?.clock.devicePath).toBe('/dev/ptp0');
    expect(driver?.clock.getcaps().crossTimestamping).toBe(1);
  });

  it('case 23: host clocksource hpet → init -EOPNOTSUPP (-95 passed raw) and nothing is logged', () => {
    const { initErrno, log, driver } = boot({ host: { clocksource: 'hpet' } });
    expect(initErrno).toBe('EOPNOTSUPP');
    expect(log).toEqual([]);
    expect(driver).toBeUndefined();
  });

  it('case 24: clock_pair at an unmapped GPA → init -EFAULT and "fail to initialize ptp_kvm"', () => {
    const { initErrno, log } = boot({ clockPairGpa: RAM_SIZE + 0x1000n });
    expect(initErrno).toBe('EFAULT');
    expect(log).toEqual(['fail to initialize ptp_kvm']);
  });

  it('PTP_SYS_OFFSET_PRECISE on kvm-clock: device = host realtime at the hypercall, sys_realtime from the guest timekeeper', () => {
    const { hv, driver } = boot();
    hv.sim.runFor(10_000_000n);
    const p = driver!.clock.sysOffsetPrecise();
    const ns = (t: { sec: bigint; nsec: bigint }) => t.sec * 1_000_000_000n + t.nsec;
    expect(ns(p.device)).toBe(hv.host.realtime());
    const off = ns(p.sysRealtime) - ns(p.device);
    expect(off > -1_000n && off < 1_000n).toBe(true); // guest booted from host realtime 10 ms ago
  });

  it('case 32: guest clocksource tsc (not kvm-clock) → PTP_SYS_OFFSET_PRECISE -ENODEV, clock_gettime still works', () => {
    const { hv, driver } = boot({ clocksource: 'tsc' });
    expect(errnoOf(() => driver!.clock.sysOffsetPrecise())).toBe('ENODEV');
    const t = driver!.clock.clockGettime();
    expect(t.sec * 1_000_000_000n + t.nsec).toBe(hv.host.realtime());
  });

  it('case 33: clock_adjtime ADJ_FREQUENCY 65536 → ERANGE; 65 → ERANGE (ppb 1); 64 → EOPNOTSUPP (ppb 0); -2 → ERANGE (ppb -1); modes 0 → 0', () => {
    const c = boot().driver!.clock;
    expect(errnoOf(() => c.clockAdjtime({ modes: ADJ_FREQUENCY, freq: 65536n }))).toBe('ERANGE');
    expect(errnoOf(() => c.clockAdjtime({ modes: ADJ_FREQUENCY, freq: 65n }))).toBe('ERANGE');
    expect(errnoOf(() => c.clockAdjtime({ modes: ADJ_FREQUENCY, freq: 64n }))).toBe('EOPNOTSUPP');
    expect(errnoOf(() => c.clockAdjtime({ modes: ADJ_FREQUENCY, freq: -2n }))).toBe('ERANGE');
    expect(errnoOf(() => c.clockAdjtime({ modes: 0 }))).toBeUndefined();
  });

  it('case 34: clock_settime → EOPNOTSUPP; ADJ_SETOFFSET usec 1000000 (no ADJ_NANO) → EINVAL; usec 0 → EOPNOTSUPP', () => {
    const c = boot().driver!.clock;
    expect(errnoOf(() => c.clockSettime({ sec: 1n, nsec: 0n }))).toBe('EOPNOTSUPP');
    expect(errnoOf(() => c.clockAdjtime({ modes: ADJ_SETOFFSET, time: { sec: 0n, usec: 1_000_000n } }))).toBe('EINVAL');
    expect(errnoOf(() => c.clockAdjtime({ modes: ADJ_SETOFFSET, time: { sec: 0n, usec: 0n } }))).toBe('EOPNOTSUPP');
  });

  it('case 35: PTP_SYS_OFFSET_EXTENDED → EOPNOTSUPP; PTP_SYS_OFFSET n=26 → EINVAL; n=2 → 5 stamps, each a VMCALL', () => {
    const { driver, hooks } = boot();
    const c = driver!.clock;
    expect(errnoOf(() => c.sysOffsetExtended(2))).toBe('EOPNOTSUPP');
    expect(errnoOf(() => c.sysOffset(26))).toBe('EINVAL');
    const before = hooks.stats.hypercalls;
    expect(c.sysOffset(2)).toHaveLength(5);
    expect(hooks.stats.hypercalls - before).toBe(2);
  });
});
