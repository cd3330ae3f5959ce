import { describe, expect, it } from 'vitest';
import { readLe, writeLe } from '../src/bigint.js';
import { KVM_CPUID_FEATURES, KVM_CPUID_SIGNATURE, KVM_SIGNATURE } from '../src/constants.js';
import { createHypervisor } from '../src/hypervisor.js';
import { definePlugin } from '../src/plugin/define-plugin.js';
import type { Plugin } from '../src/plugin/types.js';

const vcpuOf = (plugins: Plugin[] = [], arch: 'x86_64' | 'arm64' = 'x86_64') =>
  createHypervisor({ arch, plugins }).createVm().createVcpu(0);

describe('x86 CPUID / WRMSR / RDMSR exits', () => {
  it('KVM paravirtual CPUID constants (arch/x86/include/uapi/asm/kvm_para.h)', () => {
    expect([KVM_CPUID_SIGNATURE, KVM_CPUID_FEATURES]).toEqual([0x40000000, 0x40000001]);
    expect(KVM_SIGNATURE).toBe('KVMKVMKVM\0\0\0');
  });

  it('CPUID 0x40000000 returns the KVM signature with EAX = KVM_CPUID_FEATURES; unknown leaves are zeros', () => {
    const v = vcpuOf();
    expect(v.cpuid(KVM_CPUID_SIGNATURE)).toEqual([0x40000001n, 0x4b4d564bn, 0x564b4d56n, 0x4dn]);
    expect(v.cpuid(KVM_CPUID_FEATURES)).toEqual([0n, 0n, 0n, 0n]);
    expect(v.stats.exits['cpuid']).toBe(2);
  });

  it('plugins add CPUID bits in order (a handler returning false lets the next one add)', () => {
    const bit = (name: string, b: number): Plugin =>
      definePlugin({
        name,
        setup(ctx) {
          ctx.onExit('cpuid', (_v, e) => {
            if (e.leaf !== KVM_CPUID_FEATURES || e.data === undefined) return false;
            writeLe(e.data, 0, 4, readLe(e.data, 0, 4) | (1n << BigInt(b)));
            return false;
          });
        },
      });
    expect(vcpuOf([bit('a', 3), bit('b', 24)]).cpuid(KVM_CPUID_FEATURES)[0]).toBe((1n << 3n) | (1n << 24n));
  });

  it('WRMSR/RDMSR reach a claiming plugin; unclaimed MSRs are #GP (false / undefined)', () => {
    let stored = 0n;
    const msr = definePlugin({
      name: 'msr',
      setup(ctx) {
        ctx.onExit('wrmsr', (_v, e) => {
          if (e.msr !== 0x4b564d01 || e.data === undefined) return false;
          stored = readLe(e.data, 0, 8);
          return true;
        });
        ctx.onExit('rdmsr', (_v, e) => {
          if (e.msr !== 0x4b564d01 || e.data === undefined) return false;
          writeLe(e.data, 0, 8, stored);
          return true;
        });
      },
    });
    const v = vcpuOf([msr]);
    expect(v.wrmsr(0x4b564d01, 0xffff_ffff_0000_1001n)).toBe(true);
    expect(stored).toBe(0xffff_ffff_0000_1001n);
    expect(v.rdmsr(0x4b564d01)).toBe(0xffff_ffff_0000_1001n);
    expect(v.wrmsr(0x12345, 1n)).toBe(false);
    expect(v.rdmsr(0x12345)).toBeUndefined();
    expect(vcpuOf().wrmsr(0x4b564d01, 1n)).toBe(false);
  });

  it('CPUID and MSR instructions are x86 only', () => {
    const v = vcpuOf([], 'arm64');
    expect(() => v.cpuid(0)).toThrow(/x86_64/);
    expect(() => v.wrmsr(0, 0n)).toThrow(/x86_64/);
    expect(() => v.rdmsr(0)).toThrow(/x86_64/);
  });
});
