/**
 * The x86 arch part of the ptp_kvm guest driver (drivers/ptp/ptp_kvm_x86.c, mainline): the
 * four hooks ptp_kvm_common.c calls, over KVM_HC_CLOCK_PAIRING and kvm-clock.
 */
import { errnoName, KVM_ENOSYS, KVM_EOPNOTSUPP, KVM_HC_CLOCK_PAIRING, KvmError, s32, s64 } from '@kvmlab/hypervisor-core';
import type { PtpKvmArchHooks, PtpKvmCrosststamp, Timespec64 } from '@kvmlab/ptp-kvm-core';
import { decodeClockPairing, type KvmClockPairing } from '../abi/pvclock-abi.js';
import { KVM_CLOCK_PAIRING_SIZE, KVM_CLOCK_PAIRING_WALLCLOCK } from '../constants.js';
import type { GuestLog, X86GuestCpu } from './cpu.js';
import { kvmParaAvailable, type KvmclockGuest } from './kvmclock.js';
import { pvclockReadBegin, pvclockReadCycles, pvclockReadRetry, PvclockLivelockError, readPvti } from './pvclock.js';

export interface PtpKvmX86GuestOptions {
  /** The guest's kvm-clock (already initialised by the guest's boot, or not). */
  readonly kvmclock: KvmclockGuest;
  /** Guest-physical address of the 64-byte clock_pair buffer (slow_virt_to_phys(&clock_pair_glbl)). */
  readonly clockPairGpa: bigint;
  readonly log?: GuestLog;
  /** Model guard on the crosststamp retry loop (the kernel spins forever). */
  readonly maxRetries?: number;
  /**
   * Which kvm_arch_ptp_init() error mapping (spec §5): 'mainline' (default); 'sev-page' (the
   * intermediate version with the SEV page: early exits and -KVM_ENOSYS give -ENODEV, others
   * raw); 'v5.14' (early exits, -KVM_ENOSYS and -KVM_EOPNOTSUPP give -ENODEV, any other
   * return value counts as success).
   */
  readonly driverVersion?: 'mainline' | 'sev-page' | 'v5.14';
}

export interface PtpKvmX86GuestStats {
  hypercalls: number;
  crosststamps: number;
  /** Times the crosststamp loop went round again (re-issuing the hypercall). */
  pvclockRetries: number;
}

/** A hypercall failure the hook passes on raw, as the errno with that number. */
function rawError(ret: bigint, what: string): KvmError {
  const name = errnoName(Number(-ret));
  return new KvmError(name ?? 'EINVAL', `${what}: hypercall returned ${ret}${name === undefined ? ' (no errno of that number; reported as EINVAL)' : ''}`);
}

export class PtpKvmX86Guest implements PtpKvmArchHooks {
  readonly cpu: X86GuestCpu;
  readonly stats: PtpKvmX86GuestStats = { hypercalls: 0, crosststamps: 0, pvclockRetries: 0 };
  private readonly kvmclock: KvmclockGuest;
  private readonly clockPairGpa: bigint;
  private readonly log: GuestLog;
  private readonly maxRetries: number;
  private readonly driverVersion: 'mainline' | 'sev-page' | 'v5.14';

  constructor(cpu: X86GuestCpu, opts: PtpKvmX86GuestOptions) {
    this.cpu = cpu;
    this.kvmclock = opts.kvmclock;
    this.clockPairGpa = opts.clockPairGpa;
    this.log = opts.log ?? (() => undefined);
    this.maxRetries = opts.maxRetries ?? 100_000;
    this.driverVersion = opts.driverVersion ?? 'mainline';
  }

  /** kvm_hypercall2(KVM_HC_CLOCK_PAIRING, clock_pair_gpa, KVM_CLOCK_PAIRING_WALLCLOCK) as a C `long`. */
  private clockPairingHypercall(): bigint {
    this.stats.hypercalls++;
    const rax = this.cpu.vmcall(KVM_HC_CLOCK_PAIRING, [this.clockPairGpa, BigInt(KVM_CLOCK_PAIRING_WALLCLOCK)]);
    return this.cpu.x86.longMode ? s64(rax) : s32(rax);
  }

  /** printk's %lu of a `long`. */
  private unsigned(ret: bigint): bigint {
    return BigInt.asUintN(this.cpu.x86.longMode ? 64 : 32, ret);
  }

  private readClockPair(): KvmClockPairing {
    return decodeClockPairing(this.cpu.read(this.clockPairGpa, KVM_CLOCK_PAIRING_SIZE));
  }

  /**
   * models kvm_arch_ptp_init() (drivers/ptp/ptp_kvm_x86.c): KVM present, kvm-clock set up,
   * then a probe hypercall. Mainline maps only -KVM_ENOSYS (to -EOPNOTSUPP) and returns any
   * other failure raw, so -KVM_EOPNOTSUPP (-95) reads as -EOPNOTSUPP and -KVM_EFAULT as
   * -EFAULT. The encrypted-memory (SEV/TDX) page is not modelled.
   */
  init(): void {
    const early: 'EOPNOTSUPP' | 'ENODEV' = this.driverVersion === 'mainline' ? 'EOPNOTSUPP' : 'ENODEV';
    if (!kvmParaAvailable(this.cpu)) throw new KvmError(early, 'not running on KVM');
    if (this.kvmclock.pvtiCpu0 === undefined) throw new KvmError(early, 'kvm-clock is not set up');
    const ret = this.clockPairingHypercall();
    if (ret === -BigInt(KVM_ENOSYS)) throw new KvmError(early, 'KVM_HC_CLOCK_PAIRING unknown to the host (-KVM_ENOSYS)');
    if (this.driverVersion === 'v5.14') {
      if (ret === -BigInt(KVM_EOPNOTSUPP)) throw new KvmError('ENODEV', 'KVM_HC_CLOCK_PAIRING refused (-KVM_EOPNOTSUPP)');
      return; // any other value, -KVM_EFAULT included, counted as success
    }
    if (ret !== 0n) throw rawError(ret, 'KVM_HC_CLOCK_PAIRING probe');
  }

  /** models kvm_arch_ptp_get_clock() (drivers/ptp/ptp_kvm_x86.c). */
  getClock(): Timespec64 {
    const ret = this.clockPairingHypercall();
    if (ret !== 0n) {
      this.log('err', `clock offset hypercall ret ${this.unsigned(ret)}`);
      throw new KvmError('EOPNOTSUPP', `clock offset hypercall ret ${ret}`);
    }
    const p = this.readClockPair();
    return { sec: p.sec, nsec: p.nsec };
  }

  /**
   * models kvm_arch_ptp_get_crosststamp() (drivers/ptp/ptp_kvm_x86.c): inside the pvclock
   * version loop, the hypercall and the conversion of its TSC to kvm-clock ns; the loop goes
   * round again, re-issuing the hypercall, while the version changed or was odd.
   */
  getCrosststamp(): PtpKvmCrosststamp {
    this.stats.crosststamps++;
    const pvti = this.kvmclock.pvtiGpa; // this_cpu_pvti()
    let tries = 0;
    for (;;) {
      const version = pvclockReadBegin(this.cpu, pvti);
      const ret = this.clockPairingHypercall();
      if (ret !== 0n) {
        this.log('err', `clock pairing hypercall ret ${this.unsigned(ret)}`);
        throw new KvmError('EOPNOTSUPP', `clock pairing hypercall ret ${ret}`);
      }
      const p = this.readClockPair();
      const cycles = pvclockReadCycles(readPvti(this.cpu, pvti), p.tsc);
      if (!pvclockReadRetry(this.cpu, pvti, version)) {
        return { cycles, deviceTime: { sec: p.sec, nsec: p.nsec }, csId: 'CSID_X86_KVM_CLK' };
      }
      this.stats.pvclockRetries++;
      if (++tries >= this.maxRetries) throw new PvclockLivelockError(tries);
    }
  }

  /** models kvm_arch_ptp_exit(): frees the decrypted page on SEV/TDX; nothing here. */
  exit(): void {}
}
