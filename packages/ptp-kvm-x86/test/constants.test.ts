import { describe, expect, it } from 'vitest';
import * as X from '../src/index.js';

describe('x86 kvmclock / clock-pairing ABI constants', () => {
  it('KVM_HC_CLOCK_PAIRING and KVM_CLOCK_PAIRING_WALLCLOCK (kvm_para.h)', () => {
    expect([X.KVM_HC_CLOCK_PAIRING, X.KVM_CLOCK_PAIRING_WALLCLOCK]).toEqual([9, 0]);
  });
  it('CPUID leaves and kvmclock feature bits (arch/x86/include/uapi/asm/kvm_para.h)', () => {
    expect([X.KVM_CPUID_SIGNATURE, X.KVM_CPUID_FEATURES]).toEqual([0x40000000, 0x40000001]);
    expect([X.KVM_FEATURE_CLOCKSOURCE, X.KVM_FEATURE_CLOCKSOURCE2, X.KVM_FEATURE_CLOCKSOURCE_STABLE_BIT]).toEqual([0, 3, 24]);
  });
  it('kvmclock MSRs', () => {
    expect([X.MSR_KVM_WALL_CLOCK, X.MSR_KVM_SYSTEM_TIME, X.MSR_KVM_WALL_CLOCK_NEW, X.MSR_KVM_SYSTEM_TIME_NEW, X.KVM_MSR_ENABLED])
      .toEqual([0x11, 0x12, 0x4b564d00, 0x4b564d01, 1]);
  });
  it('struct kvm_clock_pairing is 64 bytes: s64 sec@0, s64 nsec@8, u64 tsc@16, u32 flags@24, u32 pad[9]@28', () => {
    expect(X.KVM_CLOCK_PAIRING_SIZE).toBe(64);
    expect(X.KVM_CLOCK_PAIRING_OFFSETS).toEqual({ sec: 0, nsec: 8, tsc: 16, flags: 24, pad: 28 });
    expect(X.KVM_CLOCK_PAIRING_OFFSETS.pad + 9 * 4).toBe(64);
  });
  it('struct pvclock_vcpu_time_info is 32 bytes packed; flag bits (pvclock-abi.h)', () => {
    expect(X.PVCLOCK_VCPU_TIME_INFO_SIZE).toBe(32);
    expect(X.PVCLOCK_OFFSETS).toEqual({ version: 0, pad0: 4, tscTimestamp: 8, systemTime: 16, tscToSystemMul: 24, tscShift: 28, flags: 29, pad: 30 });
    expect([X.PVCLOCK_TSC_STABLE_BIT, X.PVCLOCK_GUEST_STOPPED]).toEqual([1, 2]);
  });
  it('x86.c timing constants', () => {
    expect(X.KVMCLOCK_SYNC_PERIOD_NS).toBe(300_000_000_000n);
    expect(X.KVMCLOCK_UPDATE_DELAY_NS).toBe(100_000_000n);
    expect(X.TSC_TOLERANCE_PPM).toBe(250n);
  });
  it('pvclock encode/decode round-trips, with a negative s8 shift', () => {
    const p = { version: 7, tscTimestamp: 0xfedc_ba98_7654_3210n, systemTime: 12345n, tscToSystemMul: 0xcccc_cccdn, tscShift: -1, flags: 3 };
    const b = X.encodePvclock(p);
    expect(b[28]).toBe(0xff);
    expect(X.decodePvclock(b)).toEqual(p);
  });
});
