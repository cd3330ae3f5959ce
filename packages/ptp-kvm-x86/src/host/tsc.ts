/**
 * The guest TSC rate: KVM_SET_TSC_KHZ and what it leaves behind. With TSC scaling hardware
 * (VMX since Skylake) KVM programs a ratio with 48 fractional bits, which core's
 * `vcpu.l1Tsc()` applies; without it, a rate above the host's turns on "always catch up"
 * (the guest TSC is pushed forward at every entry), which KVM_HC_CLOCK_PAIRING refuses.
 */
import { KvmError, VMX_DEFAULT_TSC_RATIO, VMX_TSC_RATIO_FRAC_BITS, type Vcpu } from '@kvmlab/hypervisor-core';
import { KVM_MAX_GUEST_TSC_KHZ, TSC_TOLERANCE_PPM } from '../constants.js';

export interface VcpuTscState {
  /** vcpu->arch.virtual_tsc_khz. */
  virtualTscKhz: bigint;
  /** vcpu->arch.tsc_always_catchup (never cleared once set). */
  tscAlwaysCatchup: boolean;
  /** vcpu->arch.tsc_catchup: kvm_guest_time_update() pushes the guest TSC forward. */
  tscCatchup: boolean;
}

/** models adjust_tsc_khz() (arch/x86/kvm/x86.c): khz × (1e6 + ppm) / 1e6. */
export function adjustTscKhz(khz: bigint, ppm: bigint): bigint {
  return (khz * (1_000_000n + ppm)) / 1_000_000n;
}

/**
 * models set_tsc_khz() (arch/x86/kvm/x86.c): the ratio, or catch-up mode without scaling
 * hardware. Returns false where KVM returns -1 (ratio invalid, or slower than the host
 * without scaling), having changed nothing.
 */
function setTscKhz(vcpu: Vcpu, st: VcpuTscState, userKhz: bigint, hostKhz: bigint, scale: boolean, hasTscControl: boolean): boolean {
  if (!scale) {
    vcpu.x86.tscScalingRatio = VMX_DEFAULT_TSC_RATIO;
    return true;
  }
  if (!hasTscControl) {
    if (userKhz > hostKhz) {
      st.tscCatchup = true;
      st.tscAlwaysCatchup = true;
      return true;
    }
    return false; // "user requested TSC rate below hardware speed"
  }
  // mul_u64_u32_div(1 << frac_bits, user_tsc_khz, tsc_khz); the VMX maximum ratio is ~0ULL.
  const ratio = ((1n << VMX_TSC_RATIO_FRAC_BITS) * userKhz) / hostKhz;
  if (ratio === 0n || ratio >= (1n << 64n) - 1n) return false;
  vcpu.x86.tscScalingRatio = ratio;
  return true;
}

/**
 * models kvm_set_tsc_khz() (arch/x86/kvm/x86.c, 5.4 and 6.18): virtual_tsc_khz takes the
 * rate before set_tsc_khz() can refuse it, and is not restored then (so KVM_GET_TSC_KHZ after
 * a refused SET returns the refused rate); a rate within ±tsc_tolerance_ppm of the host needs
 * no scaling. Fails with EINVAL like the ioctl; a refusal changes nothing else.
 */
export function kvmSetTscKhz(vcpu: Vcpu, st: VcpuTscState, userKhz: bigint, hostKhz: bigint, hasTscControl: boolean): void {
  const lo = adjustTscKhz(hostKhz, -TSC_TOLERANCE_PPM);
  const hi = adjustTscKhz(hostKhz, TSC_TOLERANCE_PPM);
  const useScaling = userKhz < lo || userKhz > hi;
  st.virtualTscKhz = userKhz;
  if (!setTscKhz(vcpu, st, userKhz, hostKhz, useScaling, hasTscControl)) {
    throw new KvmError('EINVAL', `TSC rate ${userKhz} kHz cannot be given (host ${hostKhz} kHz${hasTscControl ? '' : ', no TSC scaling'})`, 'khz');
  }
}

/**
 * models the KVM_SET_TSC_KHZ vCPU ioctl (kvm_arch_vcpu_ioctl, arch/x86/kvm/x86.c): the
 * argument is truncated to u32; a rate at or above kvm_max_guest_tsc_khz is refused — in 5.4
 * always, and without TSC scaling that maximum is 0, so every SET fails; in 6.18 only with TSC
 * scaling (without it the limit is not checked). 0 means the host rate.
 */
export function kvmSetTscKhzIoctl(vcpu: Vcpu, st: VcpuTscState, arg: bigint, hostKhz: bigint, hasTscControl: boolean, era: '5.4' | '6.18'): void {
  let userKhz = BigInt.asUintN(32, arg);
  const maxGuestTscKhz = hasTscControl ? KVM_MAX_GUEST_TSC_KHZ : 0n;
  if ((era === '5.4' || hasTscControl) && userKhz >= maxGuestTscKhz) {
    throw new KvmError('EINVAL', `TSC rate ${userKhz} kHz is at or above kvm_max_guest_tsc_khz (${maxGuestTscKhz})`, 'khz');
  }
  if (userKhz === 0n) userKhz = hostKhz;
  kvmSetTscKhz(vcpu, st, userKhz, hostKhz, hasTscControl);
}
