/**
 * The RFC v4 arm64 guest hooks (drivers/ptp/ptp_kvm_arm64.c and kvm_arch_ptp_get_clock_fn()
 * in arm_arch_timer.c, 26 Sep 2019): no service discovery — init calls the PTP function and
 * takes a negative `(long)a0` as absence; the call goes through psci_ops.conduit (why patch 1
 * exported it); the delay of the call is timed with sched_clock() and half of it is added to
 * the device time (change (6)). The counter is implicitly the virtual one (change (3)).
 */
import { KvmError, s64, type Vcpu } from '@kvmlab/hypervisor-core';
import { nsToTimespec64, timespec64ToNs, type PtpKvmArchHooks, type PtpKvmCrosststamp, type Timespec64 } from '@kvmlab/ptp-kvm-core';
import type { GuestFirmware } from '@kvmlab/psci-conduit';
import { ARM_SMCCC_VENDOR_HYP_KVM_PTP_FUNC_ID } from '../constants.js';
import { archSchedClock, type ArchTimerPpi } from './arch-timer.js';
import { decodePtpReply } from './ptp-kvm-arm.js';

export interface RfcV4Reply {
  readonly a: readonly bigint[];
  /** Half the sched_clock() time the call took, ns. */
  readonly halfDelayNs: bigint;
}

export class PtpKvmArmRfcV4Guest implements PtpKvmArchHooks {
  readonly firmware: GuestFirmware;
  private readonly schedClock: () => bigint;
  calls = 0;
  /** The last compensation added, ns (for traces and tests). */
  lastHalfDelayNs = 0n;

  constructor(firmware: GuestFirmware, vcpu: Vcpu, opts: { readonly timerPpi?: ArchTimerPpi } = {}) {
    this.firmware = firmware;
    this.schedClock = archSchedClock(vcpu, opts.timerPpi ?? 'virt');
  }

  /** models arm_smccc_1_1_invoke_delay() (RFC v4 ptp_kvm_arm64.c): (t2 − t1) / 2 around the call. */
  private invokeDelay(): RfcV4Reply {
    this.calls++;
    const t1 = this.schedClock();
    const a = this.firmware.smccc11InvokeViaPsciOps([BigInt(ARM_SMCCC_VENDOR_HYP_KVM_PTP_FUNC_ID)]);
    const t2 = this.schedClock();
    const half = BigInt.asUintN(64, t2 - t1) / 2n;
    this.lastHalfDelayNs = half;
    return { a, halfDelayNs: half };
  }

  /** models kvm_arch_ptp_init() (RFC v4): probe the PTP call itself; (long)a0 < 0 → -EOPNOTSUPP. */
  init(): void {
    const r = this.invokeDelay();
    if (s64(r.a[0]!) < 0n) throw new KvmError('EOPNOTSUPP', 'PTP call not answered');
  }

  /** models kvm_arch_ptp_get_clock_generic(): device time plus half the delay. */
  private deviceTime(r: RfcV4Reply): Timespec64 {
    return nsToTimespec64(timespec64ToNs(decodePtpReply(r.a).ts) + r.halfDelayNs);
  }

  /**
   * models kvm_arch_ptp_get_clock() (RFC v4): it ignores the generic helper's error and
   * returns 0, leaving the caller's timespec unwritten — modelled as {0, 0}.
   */
  getClock(): Timespec64 {
    const r = this.invokeDelay();
    if (s64(r.a[0]!) < 0n) return { sec: 0n, nsec: 0n };
    return this.deviceTime(r);
  }

  /** models kvm_arch_ptp_get_clock_fn() (RFC v4 arm_arch_timer.c). */
  getCrosststamp(): PtpKvmCrosststamp {
    const r = this.invokeDelay();
    if (s64(r.a[0]!) < 0n) throw new KvmError('EOPNOTSUPP', 'PTP call not answered');
    return { cycles: decodePtpReply(r.a).cycles, deviceTime: this.deviceTime(r), csId: 'CSID_ARM_ARCH_COUNTER' };
  }

  exit(): void {}
}
