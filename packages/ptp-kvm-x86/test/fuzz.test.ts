import { fc, test as ftest } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { decodePvclock, KVM_HC_CLOCK_PAIRING, MSR_KVM_SYSTEM_TIME, MSR_KVM_SYSTEM_TIME_NEW, ptpKvmX86Host } from '../src/index.js';
import { neg, PVTI_GPA, RAM_SIZE, x86Rig } from './helpers.js';

const RUNS = process.env['KVMLAB_SOAK'] !== undefined ? 5_000 : 150;
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const gpa = fc.oneof(u64, fc.bigInt({ min: 0n, max: RAM_SIZE + 0x2000n }));

describe('nothing a guest passes crashes the host model', () => {
  ftest.prop([gpa, fc.oneof(u64, fc.constant(0n)), fc.integer({ min: 0, max: 3 }), fc.boolean()], { numRuns: RUNS })(
    'KVM_HC_CLOCK_PAIRING with any a0, a1, CPL and mode returns 0 or a -KVM_E* code, and writes only [a0, a0+64)',
    (a0, a1, cpl, longMode) => {
      const { vcpu } = x86Rig();
      vcpu.x86.longMode = longMode;
      const before = vcpu.vm.memory.read(0n, 0x4000);
      const rax = vcpu.vmcall(KVM_HC_CLOCK_PAIRING, [a0, a1], { cpl });
      const m = (v: bigint) => (longMode ? v : BigInt.asUintN(32, v));
      expect([0n, neg(1), neg(14), neg(95)].map(m)).toContain(rax);
      const after = vcpu.vm.memory.read(0n, 0x4000);
      const base = longMode ? a0 : BigInt.asUintN(32, a0);
      const changed: number[] = [];
      for (let i = 0; i < after.length; i++) if (after[i] !== before[i]) changed.push(i);
      const outside = changed.filter((i) => rax !== 0n || BigInt(i) < base || BigInt(i) >= base + 64n);
      expect(outside).toEqual([]);
    },
  );

  ftest.prop([fc.constantFrom(MSR_KVM_SYSTEM_TIME_NEW, MSR_KVM_SYSTEM_TIME), u64, fc.integer({ min: 0, max: 5 })], { numRuns: RUNS })(
    'any MSR_KVM_SYSTEM_TIME(_NEW) value is accepted; the area is written only if enabled and backed',
    (msr, value, updates) => {
      const { hv, vcpu } = x86Rig();
      expect(vcpu.wrmsr(msr, value)).toBe(true);
      for (let i = 0; i < updates; i++) ptpKvmX86Host(hv).requestClockUpdate(vcpu);
      const st = ptpKvmX86Host(hv).kvmclock(vcpu);
      const area = value & ~1n;
      expect(st.pvTimeEnabled).toBe((value & 1n) === 1n && area + 32n <= RAM_SIZE);
      if (st.pvTimeEnabled) expect(decodePvclock(vcpu.vm.memory.read(area, 32)).version).toBe(2 * (updates + 1));
    },
  );

  ftest.prop([fc.uint8Array({ minLength: 32, maxLength: 32 })], { numRuns: RUNS })(
    'host updates over any guest garbage in the area end with an even version and the host values',
    (garbage) => {
      const { hv, vcpu } = x86Rig();
      vcpu.vm.memory.write(PVTI_GPA, garbage);
      vcpu.wrmsr(MSR_KVM_SYSTEM_TIME_NEW, PVTI_GPA | 1n);
      const p = decodePvclock(vcpu.vm.memory.read(PVTI_GPA, 32));
      expect(p.version % 2).toBe(0);
      expect(p.tscToSystemMul).toBe(ptpKvmX86Host(hv).kvmclock(vcpu).scale.mul);
    },
  );
});
