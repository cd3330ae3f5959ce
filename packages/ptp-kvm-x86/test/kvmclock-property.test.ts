import { fc, test as ftest } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { KvmclockGuest, ptpKvmX86Host } from '../src/index.js';
import { PVTI_GPA, x86Rig } from './helpers.js';

const RUNS = process.env['KVMLAB_SOAK'] !== undefined ? 2_000 : 60;

describe('kvm-clock, host and guest together', () => {
  ftest.prop(
    [
      fc.integer({ min: 500_000, max: 4_000_000 }), // guest TSC kHz
      // host TSC at t = 0; a scaled guest TSC jumps when the host TSC wraps (as on hardware),
      // so the start leaves an hour of room below 2^64 here; the unscaled wrap is tested below
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n - 10n ** 13n }),
      fc.bigInt({ min: 1n, max: 3_600_000_000_000n }), // up to an hour later
      fc.bigInt({ min: -(1n << 62n), max: 1n << 62n }), // TSC offset
    ],
    { numRuns: RUNS },
  )('the guest reads elapsed ns within 2.1 ppm + 2 ns of virtual time, for any TSC rate, start and offset', (khz, counterStart, dt, offset) => {
    const { hv, vcpu } = x86Rig({ host: { counterStart } });
    ptpKvmX86Host(hv).setTscKhz(vcpu, khz);
    vcpu.x86.tscOffset = offset;
    const k = new KvmclockGuest(vcpu, { pvtiGpa: PVTI_GPA });
    expect(k.init()).toBe(true);
    const t0 = k.read();
    hv.sim.runFor(dt);
    const elapsed = k.read() - t0;
    const err = elapsed > dt ? elapsed - dt : dt - elapsed;
    // KVM's whole-kHz rounding of the guest rate (≤ 1 kHz in ≥ 500 MHz: 2 ppm) and the 32-bit scale
    expect(err <= (dt * 21n) / 10_000_000n + 2n).toBe(true);
  });
});

describe('kvm-clock across a host TSC wrap (no scaling)', () => {
  ftest.prop([fc.bigInt({ min: 1n, max: 10n ** 12n })], { numRuns: RUNS })('an unscaled guest TSC wraps with the host and kvm-clock keeps counting', (before) => {
    const { hv, vcpu } = x86Rig({ host: { counterStart: (1n << 64n) - before } });
    const k = new KvmclockGuest(vcpu, { pvtiGpa: PVTI_GPA });
    k.init();
    const t0 = k.read();
    hv.sim.runFor(1_000_000_000_000n); // 1000 s: the host TSC wraps past 2^64 on the way
    const elapsed = k.read() - t0;
    expect(elapsed > 999_999_000_000n && elapsed < 1_000_001_000_000n).toBe(true);
  });
});
