import { isKvmError, readLe } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import { decodePvclock, MSR_KVM_SYSTEM_TIME, MSR_KVM_SYSTEM_TIME_NEW, MSR_KVM_WALL_CLOCK_NEW, PVCLOCK_GUEST_STOPPED, PVCLOCK_TSC_STABLE_BIT, ptpKvmX86Host } from '../src/index.js';
import {
  KVM_CAP_ADJUST_CLOCK,
  KVM_CAP_GET_TSC_KHZ,
  KVM_CAP_KVMCLOCK_CTRL,
  KVM_CAP_TSC_CONTROL,
  KVM_CLOCK_DATA_OFFSETS,
  KVM_CLOCK_DATA_SIZE,
  KVM_CLOCK_HOST_TSC,
  KVM_CLOCK_REALTIME,
  KVM_CLOCK_TSC_STABLE,
  KVM_CLOCK_VALID_FLAGS,
  MSR_IA32_TSC,
  PVCLOCK_WALL_CLOCK_OFFSETS,
  PVCLOCK_WALL_CLOCK_SIZE,
  type KvmclockEra,
} from '../src/host/kvmclock-abi.js';
import { PVTI_GPA, RAM_SIZE, REAL_NS, x86Rig } from './helpers.js';

const WC_GPA = 0x3000n;
const rig = (kernel: KvmclockEra = '6.18', tscScaling = false) => {
  const r = x86Rig({ plugin: { kernel, tscScaling } });
  return { ...r, h: ptpKvmX86Host(r.hv) };
};
const pv = (r: ReturnType<typeof rig>) => decodePvclock(r.vcpu.vm.memory.read(PVTI_GPA, 32));
const errno = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    if (isKvmError(e)) return e.errno;
    throw e;
  }
  return undefined;
};

describe('kvmclock ABI constants (include/uapi/linux/kvm.h, arch/x86/include/asm/pvclock-abi.h)', () => {
  it('KVM_CLOCK_TSC_STABLE 2, KVM_CLOCK_REALTIME 4, KVM_CLOCK_HOST_TSC 8, valid flags 14; kvm_clock_data is 48 bytes', () => {
    expect([KVM_CLOCK_TSC_STABLE, KVM_CLOCK_REALTIME, KVM_CLOCK_HOST_TSC, KVM_CLOCK_VALID_FLAGS]).toEqual([2, 4, 8, 14]);
    expect([KVM_CLOCK_DATA_SIZE, KVM_CLOCK_DATA_OFFSETS]).toEqual([48, { clock: 0, flags: 8, realtime: 16, hostTsc: 24 }]);
  });
  it('struct pvclock_wall_clock is 12 packed bytes; MSR_IA32_TSC is 0x10; caps 39/60/61/76', () => {
    expect([PVCLOCK_WALL_CLOCK_SIZE, PVCLOCK_WALL_CLOCK_OFFSETS, MSR_IA32_TSC]).toEqual([12, { version: 0, sec: 4, nsec: 8 }, 0x10]);
    expect([KVM_CAP_ADJUST_CLOCK, KVM_CAP_TSC_CONTROL, KVM_CAP_GET_TSC_KHZ, KVM_CAP_KVMCLOCK_CTRL]).toEqual([39, 60, 61, 76]);
  });
  it('KVM_CHECK_EXTENSION: ADJUST_CLOCK answers the flags GET_CLOCK can report (5.4: 2, 6.18: 14); TSC_CONTROL follows the hardware', () => {
    expect(rig('6.18').vcpu.vm.checkExtension(KVM_CAP_ADJUST_CLOCK)).toBe(14);
    expect(rig('5.4').vcpu.vm.checkExtension(KVM_CAP_ADJUST_CLOCK)).toBe(2);
    expect([rig('6.18', false).hv.checkExtension(KVM_CAP_TSC_CONTROL), rig('6.18', true).hv.checkExtension(KVM_CAP_TSC_CONTROL)]).toEqual([0, 1]);
  });
});

describe('KVM_SET_MSRS from the VMM vs a guest WRMSR', () => {
  it('KVM_SET_MSRS only makes requests: the area is written at the next KVM_RUN, not before', () => {
    const r = rig();
    expect(r.h.setMsrs(r.vcpu, [{ index: MSR_KVM_SYSTEM_TIME_NEW, value: PVTI_GPA | 1n }])).toBe(1);
    expect(pv(r).version).toBe(0);
    r.h.run(r.vcpu);
    expect(pv(r)).toMatchObject({ version: 2, flags: PVCLOCK_TSC_STABLE_BIT });
    r.h.run(r.vcpu);
    expect(pv(r).version).toBe(2); // nothing pending
  });
  it('KVM_SET_MSRS stops at the first MSR it does not own and returns how many it set', () => {
    const r = rig();
    expect(r.h.setMsrs(r.vcpu, [{ index: MSR_KVM_SYSTEM_TIME_NEW, value: PVTI_GPA | 1n }, { index: 0x4b564dff, value: 0n }, { index: MSR_KVM_WALL_CLOCK_NEW, value: WC_GPA }])).toBe(1);
    expect(r.h.getMsrs(r.vcpu, [MSR_KVM_SYSTEM_TIME_NEW, MSR_KVM_SYSTEM_TIME, MSR_KVM_WALL_CLOCK_NEW])).toEqual([
      { index: MSR_KVM_SYSTEM_TIME_NEW, value: PVTI_GPA | 1n },
      { index: MSR_KVM_SYSTEM_TIME, value: PVTI_GPA | 1n }, // both read vcpu->arch.time
      { index: MSR_KVM_WALL_CLOCK_NEW, value: 0n },
    ]);
  });
  it('the deprecated MSR 0x12: a guest WRMSR on vCPU 0 turns the master clock off; the same value from the VMM does not', () => {
    const g = rig();
    g.h.run(g.vcpu, () => g.vcpu.wrmsr(MSR_KVM_SYSTEM_TIME, PVTI_GPA | 1n));
    expect(g.h.getClock(g.vcpu.vm).flags).toBe(0);
    expect(pv(g).flags & PVCLOCK_TSC_STABLE_BIT).toBe(0);
    const v = rig();
    v.h.setMsrs(v.vcpu, [{ index: MSR_KVM_SYSTEM_TIME, value: PVTI_GPA | 1n }]);
    v.h.run(v.vcpu);
    expect(v.h.getClock(v.vcpu.vm).flags).toBe(KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC);
    expect(pv(v).flags).toBe(PVCLOCK_TSC_STABLE_BIT);
  });
  it('KVM_GET_MSRS(MSR_IA32_TSC) is the guest TSC (kvm_read_l1_tsc of the host TSC now)', () => {
    const r = rig();
    r.hv.sim.runFor(1_000n);
    expect(r.h.getMsrs(r.vcpu, [MSR_IA32_TSC])).toEqual([{ index: MSR_IA32_TSC, value: r.vcpu.rdtsc() }]);
  });
});

describe('the master clock at the first KVM_RUN (kvm_track_tsc_matching, vcpu_enter_guest)', () => {
  it('KVM_GET_CLOCK has no flags until the first entry takes the snapshot; then TSC_STABLE | REALTIME | HOST_TSC (6.18)', () => {
    const r = rig();
    expect(r.h.getClock(r.vcpu.vm)).toEqual({ clock: 0n, flags: 0, realtime: 0n, hostTsc: 0n });
    r.hv.sim.runFor(10_000n);
    r.h.run(r.vcpu);
    const d = r.h.getClock(r.vcpu.vm);
    expect(d.flags).toBe(14);
    expect(d.realtime).toBe(r.hv.host.realtime());
    expect(d.realtime - REAL_NS).toBeGreaterThanOrEqual(9_999n);
    expect(d.hostTsc).toBe(r.hv.host.counter());
    expect(r.h.vmClock(r.vcpu.vm).useMasterClock).toBe(true);
  });
  it('5.4 reports only KVM_CLOCK_TSC_STABLE and leaves realtime / host_tsc zero', () => {
    const r = rig('5.4');
    r.h.run(r.vcpu);
    expect(r.h.getClock(r.vcpu.vm)).toMatchObject({ flags: KVM_CLOCK_TSC_STABLE, realtime: 0n, hostTsc: 0n });
  });
});

describe('KVM_SET_CLOCK', () => {
  it('sets kvmclock; the area follows at the next entry (KVM_REQ_CLOCK_UPDATE on every vCPU)', () => {
    const r = rig();
    r.h.setMsrs(r.vcpu, [{ index: MSR_KVM_SYSTEM_TIME_NEW, value: PVTI_GPA | 1n }]);
    r.h.run(r.vcpu);
    r.h.setClock(r.vcpu.vm, { clock: 1_000_000_000_000n, flags: 0, realtime: 0n, hostTsc: 0n });
    expect(r.h.getClock(r.vcpu.vm).clock).toBe(1_000_000_000_000n);
    expect(pv(r).version).toBe(2);
    r.h.run(r.vcpu);
    expect(pv(r)).toMatchObject({ version: 4, systemTime: 1_000_000_000_000n });
  });
  it('KVM_CLOCK_REALTIME advances the clock by the realtime elapsed since `realtime` (never backwards)', () => {
    const r = rig();
    r.h.run(r.vcpu);
    r.h.setClock(r.vcpu.vm, { clock: 5_000n, flags: KVM_CLOCK_REALTIME, realtime: REAL_NS - 700n, hostTsc: 0n });
    expect(r.h.getClock(r.vcpu.vm).clock).toBe(5_700n);
    r.h.setClock(r.vcpu.vm, { clock: 5_000n, flags: KVM_CLOCK_REALTIME, realtime: REAL_NS + 700n, hostTsc: 0n });
    expect(r.h.getClock(r.vcpu.vm).clock).toBe(5_000n);
  });
  it('bad flags: EINVAL and the clock unchanged — 6.18 refuses bits outside 14, 5.4 any flag', () => {
    const r = rig();
    expect(errno(() => r.h.setClock(r.vcpu.vm, { clock: 9n, flags: 0x10, realtime: 0n, hostTsc: 0n }))).toBe('EINVAL');
    expect(errno(() => r.h.setClock(r.vcpu.vm, { clock: 9n, flags: 14, realtime: 0n, hostTsc: 0n }))).toBeUndefined();
    const o = rig('5.4');
    const before = o.h.vmClock(o.vcpu.vm).kvmclockOffset;
    expect(errno(() => o.h.setClock(o.vcpu.vm, { clock: 9n, flags: KVM_CLOCK_TSC_STABLE, realtime: 0n, hostTsc: 0n }))).toBe('EINVAL');
    expect(o.h.vmClock(o.vcpu.vm).kvmclockOffset).toBe(before);
  });
});

describe('KVM_KVMCLOCK_CTRL (kvm_set_guest_paused)', () => {
  it('EINVAL before kvmclock is enabled; then PVCLOCK_GUEST_STOPPED at the next entry, kept until the guest clears it', () => {
    const r = rig();
    expect(errno(() => r.h.kvmclockCtrl(r.vcpu))).toBe('EINVAL');
    r.h.setMsrs(r.vcpu, [{ index: MSR_KVM_SYSTEM_TIME_NEW, value: PVTI_GPA | 1n }]);
    r.h.run(r.vcpu);
    r.h.kvmclockCtrl(r.vcpu);
    expect(pv(r).flags & PVCLOCK_GUEST_STOPPED).toBe(0);
    r.h.run(r.vcpu);
    expect(pv(r)).toMatchObject({ version: 4, flags: PVCLOCK_TSC_STABLE_BIT | PVCLOCK_GUEST_STOPPED });
    r.h.requestClockUpdate(r.vcpu);
    expect(pv(r).flags & PVCLOCK_GUEST_STOPPED).toBe(PVCLOCK_GUEST_STOPPED);
  });
  it('an enabled but unbacked area: 6.18 accepts (pv_time.active), 5.4 refuses (pv_time_enabled)', () => {
    for (const [era, want] of [['6.18', undefined], ['5.4', 'EINVAL']] as const) {
      const r = rig(era);
      r.h.setMsrs(r.vcpu, [{ index: MSR_KVM_SYSTEM_TIME_NEW, value: (RAM_SIZE + 0x1000n) | 1n }]);
      expect(errno(() => r.h.kvmclockCtrl(r.vcpu)), era).toBe(want);
    }
  });
});

describe('MSR_KVM_WALL_CLOCK_NEW (kvm_write_wall_clock)', () => {
  it('writes struct pvclock_wall_clock at once: version 2, the epoch = realtime − kvmclock', () => {
    const r = rig();
    r.hv.sim.runFor(3_000_000n);
    r.h.setMsrs(r.vcpu, [{ index: MSR_KVM_WALL_CLOCK_NEW, value: WC_GPA }]);
    const b = r.vcpu.vm.memory.read(WC_GPA, 12);
    const epoch = readLe(b, 4, 4) * 1_000_000_000n + readLe(b, 8, 4);
    expect(readLe(b, 0, 4)).toBe(2n);
    expect(epoch).toBe(REAL_NS); // the VM was created at realtime REAL_NS, kvmclock 0 then
    expect(readLe(b, 8, 4) < 1_000_000_000n).toBe(true);
    r.h.setMsrs(r.vcpu, [{ index: MSR_KVM_WALL_CLOCK_NEW, value: WC_GPA }]);
    expect(readLe(r.vcpu.vm.memory.read(WC_GPA, 4), 0, 4)).toBe(4n);
    expect(r.h.getMsrs(r.vcpu, [MSR_KVM_WALL_CLOCK_NEW])[0]!.value).toBe(WC_GPA);
  });
  it('a guest WRMSR of the deprecated MSR 0x11 writes it too; an unbacked GPA writes nothing but is stored', () => {
    const r = rig();
    r.h.run(r.vcpu, () => r.vcpu.wrmsr(0x11, WC_GPA));
    expect(readLe(r.vcpu.vm.memory.read(WC_GPA, 4), 0, 4)).toBe(2n);
    expect(r.h.setMsrs(r.vcpu, [{ index: MSR_KVM_WALL_CLOCK_NEW, value: RAM_SIZE + 0x100n }])).toBe(1);
    expect(r.h.getMsrs(r.vcpu, [0x11])[0]!.value).toBe(RAM_SIZE + 0x100n);
  });
});

describe('KVM_SET_TSC_KHZ / KVM_GET_TSC_KHZ without TSC scaling', () => {
  it('6.18: within ±250 ppm, or above the host (always catch up), accepted; below refused, GET then returns the refused rate', () => {
    const r = rig();
    r.h.setTscKhz(r.vcpu, 2_500_100);
    expect(r.h.getTscKhz(r.vcpu)).toBe(2_500_100n);
    expect(errno(() => r.h.setTscKhz(r.vcpu, 2_499_000))).toBe('EINVAL');
    expect(r.h.getTscKhz(r.vcpu)).toBe(2_499_000n);
    expect(r.h.kvmclock(r.vcpu).tscAlwaysCatchup).toBe(false);
    r.h.setTscKhz(r.vcpu, 0xffff_ffffn); // no kvm_max_guest_tsc_khz check without scaling
    expect(r.h.kvmclock(r.vcpu).tscAlwaysCatchup).toBe(true);
    r.h.setTscKhz(r.vcpu, 1n << 32n); // (u32) 0: the host rate
    expect(r.h.getTscKhz(r.vcpu)).toBe(2_500_000n);
    expect(r.h.kvmclock(r.vcpu).tscAlwaysCatchup).toBe(true); // never cleared
  });
  it('5.4: every KVM_SET_TSC_KHZ is EINVAL (kvm_max_guest_tsc_khz is 0) and GET keeps the host rate', () => {
    const r = rig('5.4');
    for (const k of [0, 2_500_000, 3_000_000]) expect(errno(() => r.h.setTscKhz(r.vcpu, k))).toBe('EINVAL');
    expect(r.h.getTscKhz(r.vcpu)).toBe(2_500_000n);
  });
  it('always catch up: every KVM_RUN after the first rewrites the area; without a master clock the guest TSC is pushed to the virtual rate', () => {
    const x = x86Rig({ plugin: { tscScaling: false }, host: { clocksource: 'hpet' } });
    const r = { ...x, h: ptpKvmX86Host(x.hv) };
    r.h.setMsrs(r.vcpu, [{ index: MSR_KVM_SYSTEM_TIME_NEW, value: PVTI_GPA | 1n }]);
    r.h.run(r.vcpu);
    r.h.setTscKhz(r.vcpu, 5_000_000); // twice the host
    r.h.run(r.vcpu);
    expect(pv(r).version).toBe(2);
    r.hv.sim.runFor(1_000_000n);
    r.h.run(r.vcpu);
    expect(pv(r).version).toBe(4);
    // compute_guest_tsc(): 1 ms at 5 GHz since creation, more than the host TSC's 2.5 GHz
    const ts = pv(r).tscTimestamp;
    expect(ts >= 4_999_990n && ts <= 5_000_000n, `${ts}`).toBe(true);
    expect(r.vcpu.rdtsc()).toBe(ts);
  });
});
