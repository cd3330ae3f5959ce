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
  /** vcpu->arch.tsc_always_catchup. */
  tscAlwaysCatchup: boolean;
}

/** models adjust_tsc_khz() (arch/x86/kvm/x86.c): khz × (1e6 + ppm) / 1e6. */
export function adjustTscKhz(khz: bigint, ppm: bigint): bigint {
  return (khz * (1_000_000n + ppm)) / 1_000_000n;
}

/**
 * models set_tsc_khz() (arch/x86/kvm/x86.c): the ratio, or catch-up mode without scaling
 * hardware. Returns false where KVM returns -1 (ratio invalid, or slower than the host
 * without scaling); the caller then restores the previous state.
 */
function setTscKhz(vcpu: Vcpu, st: VcpuTscState, userKhz: bigint, hostKhz: bigint, scale: boolean, hasTscControl: boolean): boolean {
  if (!scale) {
    vcpu.x86.tscScalingRatio = VMX_DEFAULT_TSC_RATIO;
    return true;
  }
  if (!hasTscControl) {
    if (userKhz > hostKhz) {
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
 * models kvm_set_tsc_khz() and the KVM_SET_TSC_KHZ vCPU ioctl (arch/x86/kvm/x86.c):
 * 0 means the host rate; a rate within ±tsc_tolerance_ppm of the host needs no scaling.
 * Fails with EINVAL like the ioctl.
 */
export function kvmSetTscKhz(vcpu: Vcpu, st: VcpuTscState, requestedKhz: bigint, hostKhz: bigint, hasTscControl: boolean): void {
  if (requestedKhz < 0n || requestedKhz >= KVM_MAX_GUEST_TSC_KHZ) {
    throw new KvmError('EINVAL', `TSC rate ${requestedKhz} kHz is out of range`, 'khz');
  }
  const userKhz = requestedKhz === 0n ? hostKhz : requestedKhz;
  const lo = adjustTscKhz(hostKhz, -TSC_TOLERANCE_PPM);
  const hi = adjustTscKhz(hostKhz, TSC_TOLERANCE_PPM);
  const useScaling = userKhz < lo || userKhz > hi;
  const before = { ratio: vcpu.x86.tscScalingRatio, catchup: st.tscAlwaysCatchup, khz: st.virtualTscKhz };
  st.virtualTscKhz = userKhz;
  if (!setTscKhz(vcpu, st, userKhz, hostKhz, useScaling, hasTscControl)) {
    vcpu.x86.tscScalingRatio = before.ratio;
    st.tscAlwaysCatchup = before.catchup;
    st.virtualTscKhz = before.khz;
    throw new KvmError('EINVAL', `TSC rate ${userKhz} kHz cannot be given (host ${hostKhz} kHz${hasTscControl ? '' : ', no TSC scaling'})`, 'khz');
  }
}
