import { definePlugin, isKvmError, KvmError, writeLe } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import {
  kvmClockClocksource,
  tscClocksource,
  KvmclockGuest,
  kvmParaAvailable,
  MSR_KVM_SYSTEM_TIME_NEW,
  PtpKvmX86Guest,
  PvclockLivelockError,
  ptpKvmX86Host,
  type X86GuestCpu,
} from '../src/index.js';
import { TimedX86Cpu } from '../src/scenario/timed-cpu.js';
import { CLOCK_PAIR_GPA, PVTI_GPA, RAM_SIZE, x86Rig } from './helpers.js';

type RigOpts = Parameters<typeof x86Rig>[0];

function guestRig(opts: RigOpts & { clockPairGpa?: bigint; driverVersion?: 'mainline' | 'sev-page' | 'v5.14'; kvmclockOff?: boolean } = {}) {
  const rig = x86Rig(opts);
  const log: string[] = [];
  const kvmclock = new KvmclockGuest(rig.vcpu, { pvtiGpa: PVTI_GPA, kvmclock: opts.kvmclockOff !== true });
  kvmclock.init();
  const guest = new PtpKvmX86Guest(rig.vcpu, {
    kvmclock,
    clockPairGpa: opts.clockPairGpa ?? CLOCK_PAIR_GPA,
    log: (_l, m) => log.push(m),
    driverVersion: opts.driverVersion,
  });
  return { ...rig, kvmclock, guest, log };
}

const errnoOf = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    return isKvmError(e) ? e.errno : `not a KvmError: ${String(e)}`;
  }
};

/** A VMM whose CPUID table hides the KVM signature. */
const hideKvm = definePlugin({
  name: 'hide-kvm',
  setup: (ctx) =>
    ctx.onExit('cpuid', (_v, e) => {
      if (e.leaf === 0x40000000 && e.data !== undefined) e.data.fill(0);
      return false;
    }),
});

describe('guest kvm-clock (kvmclock_init, pvclock_clocksource_read)', () => {
  it('kvm_para_available() needs the KVM CPUID signature', () => {
    expect(kvmParaAvailable(x86Rig().vcpu)).toBe(true);
    expect(kvmParaAvailable(x86Rig({ extra: [hideKvm] }).vcpu)).toBe(false);
  });

  it('registers the area with MSR_KVM_SYSTEM_TIME_NEW | enable bit, and reads ns since VM creation', () => {
    const { hv, vcpu, kvmclock } = guestRig();
    expect(vcpu.rdmsr(MSR_KVM_SYSTEM_TIME_NEW)).toBe(PVTI_GPA | 1n);
    expect(kvmclock.pvtiCpu0).toBe(PVTI_GPA);
    hv.sim.runFor(2_000_000_000n);
    const t = kvmclock.read();
    expect(t >= 1_999_999_000n && t <= 2_000_000_000n).toBe(true); // 2 s, within the 32-bit scale's rounding
  });

  it('without the plugin (no kvmclock feature bits) kvm-clock is not set up', () => {
    const { kvmclock } = guestRig({ noPlugin: true });
    expect(kvmclock.pvtiCpu0).toBeUndefined();
  });

  it('a guest TSC scaled to 1 GHz: kvm-clock runs ~1 ppm fast, because KVM rounds the scaled rate down to whole kHz', () => {
    const { hv, vcpu } = x86Rig();
    ptpKvmX86Host(hv).setTscKhz(vcpu, 1_000_000);
    const k = new KvmclockGuest(vcpu, { pvtiGpa: PVTI_GPA });
    k.init();
    // ratio = floor(0.4 × 2^48) makes kvm_scale_tsc(2500000 kHz) = 999999.99… → 999999 kHz,
    // so mul/shift are computed for 999.999 MHz while the TSC really ticks at ~1 GHz.
    expect(ptpKvmX86Host(hv).kvmclock(vcpu).hwTscKhz).toBe(999_999n);
    hv.sim.runFor(3_000_000_000n);
    const fast = k.read() - 3_000_000_000n;
    expect(fast >= 2_900n && fast <= 3_100n).toBe(true);
  });
});

describe('guest clocksources (the shape ptp-kvm-core timekeeping reads)', () => {
  it('kvm-clock: 1 GHz, 64-bit, CSID_X86_KVM_CLK, reads kvmclock ns', () => {
    const { hv, kvmclock } = guestRig();
    const cs = kvmClockClocksource(kvmclock);
    expect(cs).toMatchObject({ name: 'kvm-clock', csId: 'CSID_X86_KVM_CLK', hz: 1_000_000_000n, maskBits: 64 });
    hv.sim.runFor(1_000n);
    expect(cs.read()).toBe(kvmclock.read());
  });
  it('tsc: calibrated from the kvmclock scale (kvm_get_tsc_khz), reads RDTSC', () => {
    const { hv, vcpu, kvmclock } = guestRig();
    ptpKvmX86Host(hv).setTscKhz(vcpu, 1_500_000);
    ptpKvmX86Host(hv).requestClockUpdate(vcpu);
    const cs = tscClocksource(vcpu, kvmclock);
    expect(cs).toMatchObject({ name: 'tsc', csId: 'CSID_X86_TSC', maskBits: 64 });
    expect(cs.hz / 1000n).toBeGreaterThanOrEqual(1_499_998n);
    expect(cs.hz / 1000n).toBeLessThanOrEqual(1_500_000n);
    expect(cs.read()).toBe(vcpu.rdtsc());
  });
});

describe('guest ptp_kvm x86 init (kvm_arch_ptp_init, mainline mapping)', () => {
  it('success: the probe hypercall returns 0', () => {
    const { guest } = guestRig();
    expect(() => guest.init()).not.toThrow();
    expect(guest.stats.hypercalls).toBe(1);
  });

  it('case 23: host clocksource hpet → RAX -95 → init returns -95 = -EOPNOTSUPP (the common layer stays silent)', () => {
    const { guest } = guestRig({ host: { clocksource: 'hpet' } });
    expect(errnoOf(() => guest.init())).toBe('EOPNOTSUPP');
  });

  it('case 24: clock_pair at an unmapped GPA → RAX -14 → init returns -EFAULT (logged by the common layer)', () => {
    const { guest } = guestRig({ clockPairGpa: RAM_SIZE + 0x1000n });
    expect(errnoOf(() => guest.init())).toBe('EFAULT');
  });

  it('case 28: host without CONFIG_X86_64 → -1000 → init -EOPNOTSUPP; older drivers -ENODEV', () => {
    expect(errnoOf(() => guestRig({ plugin: { hostX86_64: false } }).guest.init())).toBe('EOPNOTSUPP');
    expect(errnoOf(() => guestRig({ plugin: { hostX86_64: false }, driverVersion: 'sev-page' }).guest.init())).toBe('ENODEV');
    expect(errnoOf(() => guestRig({ plugin: { hostX86_64: false }, driverVersion: 'v5.14' }).guest.init())).toBe('ENODEV');
  });

  it('v5.14 driver: -KVM_EOPNOTSUPP → -ENODEV, but -KVM_EFAULT counts as success', () => {
    expect(errnoOf(() => guestRig({ host: { clocksource: 'hpet' }, driverVersion: 'v5.14' }).guest.init())).toBe('ENODEV');
    expect(errnoOf(() => guestRig({ clockPairGpa: RAM_SIZE + 0x1000n, driverVersion: 'v5.14' }).guest.init())).toBeUndefined();
    expect(errnoOf(() => guestRig({ clockPairGpa: RAM_SIZE + 0x1000n, driverVersion: 'sev-page' }).guest.init())).toBe('EFAULT');
  });

  it('not on KVM (no signature) → -EOPNOTSUPP before any hypercall', () => {
    const { guest } = guestRig({ extra: [hideKvm] });
    expect(errnoOf(() => guest.init())).toBe('EOPNOTSUPP');
    expect(guest.stats.hypercalls).toBe(0);
  });

  it('kvm-clock not set up (no-kvmclock) → -EOPNOTSUPP before any hypercall', () => {
    const { guest } = guestRig({ kvmclockOff: true });
    expect(errnoOf(() => guest.init())).toBe('EOPNOTSUPP');
    expect(guest.stats.hypercalls).toBe(0);
  });

  it('a 32-bit guest kernel reads RAX as a 32-bit long: 0xFFFFFFA1 is -95 → EOPNOTSUPP', () => {
    const { vcpu, guest } = guestRig({ host: { clocksource: 'hpet' } });
    vcpu.x86.longMode = false;
    expect(errnoOf(() => guest.init())).toBe('EOPNOTSUPP');
    expect(vcpu.x86.regs.rax).toBe(0xffff_ffa1n);
  });

  it('CPL 3 would get -KVM_EPERM, reported raw as EPERM', () => {
    const { vcpu, guest } = guestRig();
    vcpu.x86.cpl = 3;
    expect(errnoOf(() => guest.init())).toBe('EPERM');
  });
});

describe('guest gettime and crosststamp', () => {
  it('gettime: one hypercall → {sec, nsec} of host realtime', () => {
    const { hv, guest } = guestRig();
    hv.sim.runFor(500_000_000n);
    const ts = guest.getClock();
    const real = hv.host.realtime();
    expect(ts.sec * 1_000_000_000n + ts.nsec).toBe(real);
    expect(guest.stats.hypercalls).toBe(1);
  });

  it('gettime failure logs "clock offset hypercall ret %lu" and gives -EOPNOTSUPP', () => {
    const { guest, log } = guestRig({ clockPairGpa: RAM_SIZE + 0x1000n });
    expect(errnoOf(() => guest.getClock())).toBe('EOPNOTSUPP');
    expect(log).toEqual([`clock offset hypercall ret ${2n ** 64n - 14n}`]);
  });

  it('crosststamp: device time, the TSC converted to kvm-clock ns, cs_id kvm-clock', () => {
    const { hv, kvmclock, guest } = guestRig();
    hv.sim.runFor(1_000_000_000n);
    const x = guest.getCrosststamp();
    expect(x.csId).toBe('CSID_X86_KVM_CLK');
    expect(x.deviceTime.sec * 1_000_000_000n + x.deviceTime.nsec).toBe(hv.host.realtime());
    expect(x.cycles).toBe(kvmclock.read()); // same instant: the paired TSC is the guest TSC now
    expect(guest.stats.pvclockRetries).toBe(0);
  });

  it('case 31: version 3 at begin and 4 after → retry, and a second hypercall is issued', () => {
    const { vcpu, kvmclock } = guestRig();
    const set = (v: number) => {
      const b = new Uint8Array(4);
      writeLe(b, 0, 4, BigInt(v));
      vcpu.vm.memory.write(PVTI_GPA, b);
    };
    set(3); // the host is mid-update
    let calls = 0;
    const cpu: X86GuestCpu = {
      cpuid: (l, s) => vcpu.cpuid(l, s),
      wrmsr: (i, v) => vcpu.wrmsr(i, v),
      rdtsc: () => vcpu.rdtsc(),
      read: (g, n) => vcpu.read(g, n),
      x86: vcpu.x86,
      vmcall: (nr, args) => {
        if (++calls === 1) set(4); // ... and finishes while the hypercall runs
        return vcpu.vmcall(nr, args);
      },
    };
    const g = new PtpKvmX86Guest(cpu, { kvmclock, clockPairGpa: CLOCK_PAIR_GPA });
    g.getCrosststamp();
    expect(calls).toBe(2);
    expect(g.stats).toMatchObject({ hypercalls: 2, pvclockRetries: 1 });
  });

  it('a host kvmclock update landing inside the VMCALL round trip makes the loop retry (mechanism, not a flag)', () => {
    const { hv, vcpu, kvmclock } = guestRig({ plugin: { periodicSync: { periodNs: 10_000n } } });
    const timed = new TimedX86Cpu(vcpu, hv.sim, { exit: { kind: 'fixed', ns: 3_000 }, entry: { kind: 'fixed', ns: 3_000 } });
    const g = new PtpKvmX86Guest(timed, { kvmclock, clockPairGpa: CLOCK_PAIR_GPA });
    for (let i = 0; i < 50; i++) {
      g.getCrosststamp();
      hv.sim.runFor(1_234n);
    }
    expect(g.stats.pvclockRetries).toBeGreaterThan(0);
    expect(g.stats.hypercalls).toBe(50 + g.stats.pvclockRetries);
  });

  it('with no kvmclock updates the loop never retries', () => {
    const { hv, vcpu, kvmclock } = guestRig();
    hv.sim.runFor(200_000_000n); // past the one-shot 100 ms update
    const timed = new TimedX86Cpu(vcpu, hv.sim, { exit: { kind: 'fixed', ns: 3_000 }, entry: { kind: 'fixed', ns: 3_000 } });
    const g = new PtpKvmX86Guest(timed, { kvmclock, clockPairGpa: CLOCK_PAIR_GPA });
    for (let i = 0; i < 50; i++) g.getCrosststamp();
    expect(g.stats.pvclockRetries).toBe(0);
  });

  it('pre-2022 host + TSC catch-up: every exit rewrites kvmclock, so the crosststamp loop never ends (model guard trips)', () => {
    const { hv, vcpu, kvmclock } = guestRig({ plugin: { tscScaling: false, checkTscAlwaysCatchup: false } });
    ptpKvmX86Host(hv).setTscKhz(vcpu, 3_000_000);
    const g = new PtpKvmX86Guest(vcpu, { kvmclock, clockPairGpa: CLOCK_PAIR_GPA, maxRetries: 1000 });
    expect(() => g.getCrosststamp()).toThrow(PvclockLivelockError);
    expect(g.stats.pvclockRetries).toBe(1000);
  });

  it('the mainline host refuses catch-up vCPUs instead: crosststamp gives -EOPNOTSUPP at once', () => {
    const { hv, vcpu, kvmclock } = guestRig({ plugin: { tscScaling: false } });
    ptpKvmX86Host(hv).setTscKhz(vcpu, 3_000_000);
    const g = new PtpKvmX86Guest(vcpu, { kvmclock, clockPairGpa: CLOCK_PAIR_GPA });
    expect(errnoOf(() => g.getCrosststamp())).toBe('EOPNOTSUPP');
    expect(g.stats.hypercalls).toBe(1);
  });

  it('errors are KvmError instances (what the common layer passes on)', () => {
    const { guest } = guestRig({ host: { clocksource: 'hpet' } });
    expect(() => guest.getCrosststamp()).toThrow(KvmError);
  });
});
