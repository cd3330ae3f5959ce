
import { GuestTimekeeper, PtpClockRegistry, ptpKvmInit, timespec64ToNs } from '@kvmlab/ptp-kvm-core';
import { describe, expect, it } from 'vitest';
import { archSysCounter, decodePtpReply, PtpKvmArmGuest, PtpKvmArmRfcV4Guest } from '../src/index.js';
import { bootGuest, CASE4_HOST, errno, mk } from './helpers.js';

describe('merged arm64 guest hooks', () => {
  it('case 17: decode a0=0x17979cfe a1=0x3d85cd15 a2=0x123 a3=0x356789ab → ts {1700000000, 123456789}, cycle 0x123356789AB, ARCH_COUNTER', () => {
    expect(decodePtpReply([0x17979cfen, 0x3d85cd15n, 0x123n, 0x356789abn])).toEqual({ ts: { sec: 1_700_000_000n, nsec: 123_456_789n }, cycles: 0x1233_5678_9abn });
    const { vcpu } = mk({ host: CASE4_HOST });
    vcpu.cntvoff = 0x1000_0000n;
    const g = new PtpKvmArmGuest(bootGuest(vcpu));
    g.init();
    expect(g.getCrosststamp()).toEqual({ cycles: 0x1233_5678_9abn, deviceTime: { sec: 1_700_000_000n, nsec: 123_456_789n }, csId: 'CSID_ARM_ARCH_COUNTER' });
  });
  it('case 18: a0 = 0x80000000 (year ≥ 2262) or 0xFFFFFFFF → (int)a0 < 0 → EOPNOTSUPP', () => {
    for (const hi of [0x8000_0000n, 0xffff_ffffn]) {
      const { vcpu } = mk({ host: { realtimeStartNs: hi << 32n } });
      const g = new PtpKvmArmGuest(bootGuest(vcpu));
      g.init();
      expect(errno(() => g.getCrosststamp())).toBe('EOPNOTSUPP');
      expect(errno(() => g.getClock())).toBe('EOPNOTSUPP');
    }
  });
  it('case 19: timer PPI PHYS or HYP → x1=1 (physical counter); VIRT → x1=0', () => {
    const { vcpu } = mk({ host: CASE4_HOST });
    vcpu.cntvoff = 0x1000_0000n;
    const psci = bootGuest(vcpu);
    const cyc = (ppi: 'virt' | 'phys' | 'hyp') => new PtpKvmArmGuest(psci, { timerPpi: ppi }).getCrosststamp().cycles;
    expect(new PtpKvmArmGuest(psci, { timerPpi: 'hyp' }).counterArg).toBe(1);
    expect(new PtpKvmArmGuest(psci, { timerPpi: 'virt' }).counterArg).toBe(0);
    expect(cyc('phys')).toBe(0x123_4567_89abn);
    expect(cyc('hyp')).toBe(0x123_4567_89abn);
    expect(cyc('virt')).toBe(0x123_3567_89abn);
  });
  it('case 9: bmap 0x1 → ptp_kvm init fails with EOPNOTSUPP, silently, and no /dev/ptpN appears', () => {
    const { vcpu } = mk();
    vcpu.setOneReg(0x6030000000160002n, 0x1n);
    const psci = bootGuest(vcpu);
    const reg = new PtpClockRegistry();
    const log: string[] = [];
    const tk = new GuestTimekeeper(archSysCounter(vcpu), { realtimeNs: 0n });
    expect(errno(() => ptpKvmInit(new PtpKvmArmGuest(psci), tk, { registry: reg, log: (_l, m) => log.push(m) }))).toBe('EOPNOTSUPP');
    expect(log).toEqual([]);
    expect(reg.count).toBe(0);
    expect(vcpu.hvc([0x86000001n, 0n])[0]).toBe(0xffff_ffff_ffff_ffffn);
  });
  it('composition: without ptp-kvm-arm64 the guest bitmap lacks bit 1 and init fails with EOPNOTSUPP', () => {
    const { vcpu } = mk({ ptp: false });
    const psci = bootGuest(vcpu);
    expect(psci.hypServices.bitmap).toBe(0x1n);
    expect(errno(() => new PtpKvmArmGuest(psci).init())).toBe('EOPNOTSUPP');
  });
  it('end to end: PTP_SYS_OFFSET_PRECISE pairs the host realtime with the guest clock at the same counter value', () => {
    const lat = { entry: { kind: 'fixed', ns: 800 }, exit: { kind: 'fixed', ns: 400 } } as const;
    const { vcpu, hv } = mk({ latency: lat, host: { counterHz: 1_000_000_000n } });
    hv.sim.elapse(5_000n);
    const tk = new GuestTimekeeper(archSysCounter(vcpu), { realtimeNs: hv.host.realtime() + 1_000n });
    const drv = ptpKvmInit(new PtpKvmArmGuest(bootGuest(vcpu)), tk);
    const t0 = hv.sim.now;
    const r = drv.clock.sysOffsetPrecise();
    expect(hv.sim.now - t0).toBe(1_200n);
    expect(timespec64ToNs(r.device)).toBe(hv.host.realtimeStartNs + t0 + 800n);
    expect(timespec64ToNs(r.sysRealtime) - timespec64ToNs(r.device)).toBe(1_000n);
  });
  it('case 38: a merged guest on the PHYS counter against an RFC v4 host (virtual cycles only) → EINVAL', () => {
    const { vcpu, hv } = mk({ variant: 'rfc-v4' });
    hv.sim.elapse(1_000_000n);
    vcpu.cntvoff = hv.host.counter() - 10n; // the virtual count is far behind the physical one
    const tk = new GuestTimekeeper(archSysCounter(vcpu, 'phys'), { realtimeNs: 0n });
    const drv = ptpKvmInit(new PtpKvmArmGuest(bootGuest(vcpu), { timerPpi: 'phys' }), tk);
    expect(errno(() => drv.clock.sysOffsetPrecise())).toBe('EINVAL');
  });
});

describe('RFC v4 guest hooks', () => {
  const lat = { entry: { kind: 'fixed', ns: 700 }, exit: { kind: 'fixed', ns: 300 } } as const;
  it('init probes the PTP call itself (no UID/FEATURES discovery needed) and a -1 reply means absent', () => {
    const { vcpu } = mk({ variant: 'rfc-v4' });
    const psci = bootGuest(vcpu);
    const g = new PtpKvmArmRfcV4Guest(psci.firmware, vcpu);
    g.init();
    expect(g.calls).toBe(1);
    const none = mk({ ptp: false });
    const g2 = new PtpKvmArmRfcV4Guest(bootGuest(none.vcpu).firmware, none.vcpu);
    expect(errno(() => g2.init())).toBe('EOPNOTSUPP');
  });
  it('adds half the sched_clock-timed round trip to the device time, while the cycles stay those of the snapshot', () => {
    const { vcpu, hv } = mk({ variant: 'rfc-v4', latency: lat, host: { counterHz: 1_000_000_000n } });
    const g = new PtpKvmArmRfcV4Guest(bootGuest(vcpu).firmware, vcpu);
    const t0 = hv.sim.now;
    const x = g.getCrosststamp();
    expect(g.lastHalfDelayNs).toBe(500n);
    expect(timespec64ToNs(x.deviceTime)).toBe(hv.host.realtimeStartNs + t0 + 700n + 500n);
    expect(x.cycles).toBe(vcpu.readCounter('virt') - 300n);
  });
  it('at 25 MHz sched_clock sees the round trip in 40 ns steps', () => {
    const odd = { entry: { kind: 'fixed', ns: 700 }, exit: { kind: 'fixed', ns: 310 } } as const;
    const { vcpu } = mk({ variant: 'rfc-v4', latency: odd });
    const g = new PtpKvmArmRfcV4Guest(bootGuest(vcpu).firmware, vcpu);
    const seen = new Set<bigint>();
    for (let i = 0; i < 20; i++) {
      g.getCrosststamp();
      seen.add(g.lastHalfDelayNs);
    }
    // 1010 ns is 25.25 ticks of 40 ns: sched_clock sees 25 or 26 of them.
    expect([...seen].every((h) => h === 500n || h === 520n)).toBe(true);
    expect(seen.size).toBe(2);
  });
  it('the v4 guest tests (long)a0, so a0 = 0x80000000 is a valid time there but not for the merged (int) test', () => {
    const { vcpu } = mk({ variant: 'rfc-v4', host: { realtimeStartNs: 0x8000_0000n << 32n } });
    const g = new PtpKvmArmRfcV4Guest(bootGuest(vcpu).firmware, vcpu);
    expect(errno(() => g.getCrosststamp())).toBe('ok');
  });
  it('get_clock ignores a failed call and returns 0 with an unwritten timespec (modelled as {0, 0})', () => {
    const { vcpu } = mk({ variant: 'rfc-v4' });
    vcpu.setOneReg(0x6030000000160002n, 0x1n); // the PTP bit off: the call answers -1
    const g = new PtpKvmArmRfcV4Guest(bootGuest(vcpu).firmware, vcpu);
    expect(g.getClock()).toEqual({ sec: 0n, nsec: 0n });
  });
});
