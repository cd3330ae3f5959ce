/**
 * The guest's kvm-clock (arch/x86/kernel/kvmclock.c, arch/x86/kernel/pvclock.c): discovery
 * through the KVM CPUID leaves, registration of the per-vCPU pvclock area with the MSR, and
 * the clocksource read.
 */
import { KVM_CPUID_FEATURES, KVM_CPUID_SIGNATURE, KVM_SIGNATURE } from '@kvmlab/hypervisor-core';
import {
  KVM_FEATURE_CLOCKSOURCE,
  KVM_FEATURE_CLOCKSOURCE2,
  KVM_FEATURE_CLOCKSOURCE_STABLE_BIT,
  KVM_MSR_ENABLED,
  MSR_KVM_SYSTEM_TIME,
  MSR_KVM_SYSTEM_TIME_NEW,
  PVCLOCK_TSC_STABLE_BIT,
} from '../constants.js';
import type { X86GuestCpu } from './cpu.js';
import { pvclockReadBegin, pvclockReadCycles, pvclockReadRetry, PvclockLivelockError, readPvti } from './pvclock.js';

/** The 12 signature bytes as the three little-endian registers EBX, ECX, EDX. */
const SIGNATURE_REGS = [0, 4, 8].map((o) =>
  BigInt(KVM_SIGNATURE.charCodeAt(o) | (KVM_SIGNATURE.charCodeAt(o + 1) << 8) | (KVM_SIGNATURE.charCodeAt(o + 2) << 16)) |
  (BigInt(KVM_SIGNATURE.charCodeAt(o + 3)) << 24n),
);

/**
 * models kvm_para_available() / kvm_cpuid_base() (arch/x86/include/asm/kvm_para.h): the KVM
 * signature at 0x40000000. The kernel also scans later 0x100 steps and requires the
 * X86_FEATURE_HYPERVISOR bit; the model checks the first base only.
 */
export function kvmParaAvailable(cpu: X86GuestCpu): boolean {
  const [eax, ebx, ecx, edx] = cpu.cpuid(KVM_CPUID_SIGNATURE);
  return ebx === SIGNATURE_REGS[0] && ecx === SIGNATURE_REGS[1] && edx === SIGNATURE_REGS[2] && eax >= BigInt(KVM_CPUID_FEATURES);
}

/** models kvm_para_has_feature() (arch/x86/kernel/kvm.c): a bit of CPUID 0x40000001 EAX. */
export function kvmParaHasFeature(cpu: X86GuestCpu, bit: number): boolean {
  return ((cpu.cpuid(KVM_CPUID_FEATURES)[0] >> BigInt(bit)) & 1n) === 1n;
}

export interface KvmclockGuestOptions {
  /** Where this vCPU's pvclock_vcpu_time_info lives (this_cpu_pvti); 32 bytes, guest RAM. */
  readonly pvtiGpa: bigint;
  /** The `no-kvmclock` boot parameter turns kvm-clock off (default: on). */
  readonly kvmclock?: boolean;
  /** Model guard: give up a read loop after this many retries (the kernel never does). */
  readonly maxRetries?: number;
}

export interface KvmclockGuestStats {
  reads: number;
  retries: number;
}

export class KvmclockGuest {
  readonly cpu: X86GuestCpu;
  readonly pvtiGpa: bigint;
  readonly stats: KvmclockGuestStats = { reads: 0, retries: 0 };
  private readonly enabled: boolean;
  private readonly maxRetries: number;
  private registered = false;
  /** pvclock.c valid_flags: PVCLOCK_TSC_STABLE_BIT once the host advertises it. */
  private validFlags = 0;
  /** pvclock.c last_value: keeps reads monotonic when the host does not vouch for the TSC. */
  private lastValue = 0n;

  constructor(cpu: X86GuestCpu, opts: KvmclockGuestOptions) {
    this.cpu = cpu;
    this.pvtiGpa = opts.pvtiGpa;
    this.enabled = opts.kvmclock ?? true;
    this.maxRetries = opts.maxRetries ?? 100_000;
  }

  /**
   * models kvmclock_init() (arch/x86/kernel/kvmclock.c): pick the MSR from the feature bits,
   * register the area (physical address | enable bit), note the stable bit. Returns whether
   * kvm-clock is set up (what pvclock_get_pvti_cpu0_va() then reports).
   */
  init(): boolean {
    if (!this.enabled || !kvmParaAvailable(this.cpu)) return false;
    let msr: number;
    if (kvmParaHasFeature(this.cpu, KVM_FEATURE_CLOCKSOURCE2)) msr = MSR_KVM_SYSTEM_TIME_NEW;
    else if (kvmParaHasFeature(this.cpu, KVM_FEATURE_CLOCKSOURCE)) msr = MSR_KVM_SYSTEM_TIME;
    else return false;
    // kvm_register_clock(): wrmsrl, not the _safe variant; a #GP here would be an oops.
    if (!this.cpu.wrmsr(msr, this.pvtiGpa | BigInt(KVM_MSR_ENABLED))) return false;
    this.registered = true;
    if (kvmParaHasFeature(this.cpu, KVM_FEATURE_CLOCKSOURCE_STABLE_BIT)) this.validFlags = PVCLOCK_TSC_STABLE_BIT;
    return true;
  }

  /** models pvclock_get_pvti_cpu0_va(): the area's address once kvm-clock is set up. */
  get pvtiCpu0(): bigint | undefined {
    return this.registered ? this.pvtiGpa : undefined;
  }

  /**
   * models pvclock_clocksource_read() (arch/x86/kernel/pvclock.c), i.e. kvm_clock_read(): the
   * version loop around RDTSC and the conversion; without a vouched-for stable TSC, reads are
   * clamped to never go backwards across vCPUs (last_value).
   */
  read(): bigint {
    this.stats.reads++;
    let tries = 0;
    for (;;) {
      const version = pvclockReadBegin(this.cpu, this.pvtiGpa);
      const src = readPvti(this.cpu, this.pvtiGpa);
      const ret = pvclockReadCycles(src, this.cpu.rdtsc());
      if (!pvclockReadRetry(this.cpu, this.pvtiGpa, version)) {
        if ((this.validFlags & PVCLOCK_TSC_STABLE_BIT) !== 0 && (src.flags & PVCLOCK_TSC_STABLE_BIT) !== 0) return ret;
        if (ret <= this.lastValue) return this.lastValue;
        this.lastValue = ret;
        return ret;
      }
      this.stats.retries++;
      if (++tries >= this.maxRetries) throw new PvclockLivelockError(tries);
    }
  }
}
