/**
 * The merged arm64 ptp_kvm guest hooks (drivers/ptp/ptp_kvm_arm.c and
 * kvm_arch_ptp_get_crosststamp() in drivers/clocksource/arm_arch_timer.c), from "ptp: arm64:
 * Enable ptp_kvm for arm64" as merged in 5.13: the service is found through the vendor-hyp
 * features bitmap, the counter is chosen from the timer PPI, and `(int)a0 < 0` means failure.
 */
import { KvmError, s32, s64 } from '@kvmlab/hypervisor-core';
import { nsToTimespec64, type PtpKvmArchHooks, type PtpKvmCrosststamp, type Timespec64 } from '@kvmlab/ptp-kvm-core';
import type { GuestPsci } from '@kvmlab/psci-conduit';
import { joinHiLo } from '../abi.js';
import { ARM_SMCCC_KVM_FUNC_PTP, ARM_SMCCC_VENDOR_HYP_KVM_PTP_FUNC_ID, KVM_PTP_PHYS_COUNTER, KVM_PTP_VIRT_COUNTER } from '../constants.js';
import type { ArchTimerPpi } from './arch-timer.js';

export interface PtpKvmArmGuestOptions {
  /** arch_timer_uses_ppi (default 'virt', what a KVM guest normally gets). */
  readonly timerPpi?: ArchTimerPpi;
}

/** The decoded reply of the PTP call (guest side). */
export interface PtpKvmReply {
  readonly ts: Timespec64;
  readonly cycles: bigint;
}

/** models the decoding in kvm_arch_ptp_get_crosststamp(): ktime = a0 << 32 | a1, cycle = a2 << 32 | a3. */
export function decodePtpReply(r: readonly bigint[]): PtpKvmReply {
  const ktime = s64(joinHiLo(r[0] ?? 0n, r[1] ?? 0n));
  return { ts: nsToTimespec64(ktime), cycles: joinHiLo(r[2] ?? 0n, r[3] ?? 0n) };
}

export class PtpKvmArmGuest implements PtpKvmArchHooks {
  readonly psci: GuestPsci;
  readonly timerPpi: ArchTimerPpi;
  calls = 0;

  constructor(psci: GuestPsci, opts: PtpKvmArmGuestOptions = {}) {
    this.psci = psci;
    this.timerPpi = opts.timerPpi ?? 'virt';
  }

  /** models kvm_arch_ptp_init() (drivers/ptp/ptp_kvm_arm.c). */
  init(): void {
    if (!this.psci.hypServices.available(ARM_SMCCC_KVM_FUNC_PTP)) {
      throw new KvmError('EOPNOTSUPP', 'KVM PTP service not advertised by the hypervisor');
    }
  }

  /** The counter argument: virtual for the virtual timer PPI, physical otherwise. */
  get counterArg(): number {
    return this.timerPpi === 'virt' ? KVM_PTP_VIRT_COUNTER : KVM_PTP_PHYS_COUNTER;
  }

  private call(): PtpKvmReply {
    this.calls++;
    const r = this.psci.firmware.smccc11Invoke([BigInt(ARM_SMCCC_VENDOR_HYP_KVM_PTP_FUNC_ID), BigInt(this.counterArg)]);
    // (int)hvc_res.a0 < 0: only the low 32 bits are tested.
    if (s32(r[0]!) < 0n) throw new KvmError('EOPNOTSUPP', `PTP call returned a0 = 0x${r[0]!.toString(16)}`);
    return decodePtpReply(r);
  }

  /** models kvm_arch_ptp_get_clock() (drivers/ptp/ptp_kvm_arm.c): the crosststamp without cycles. */
  getClock(): Timespec64 {
    return this.call().ts;
  }

  /** models kvm_arch_ptp_get_crosststamp() (drivers/clocksource/arm_arch_timer.c). */
  getCrosststamp(): PtpKvmCrosststamp {
    const r = this.call();
    return { cycles: r.cycles, deviceTime: r.ts, csId: 'CSID_ARM_ARCH_COUNTER' };
  }

  /** models kvm_arch_ptp_exit(): nothing to free. */
  exit(): void {}
}
