/**
 * KVM_HC_CLOCK_PAIRING (9): the host's CLOCK_REALTIME and the guest TSC at the same instant,
 * written as a struct kvm_clock_pairing into guest memory. Added by commit 55dd00a73a51
 * (Linux 4.11); the tsc_always_catchup check is from 2022.
 */
import { isKvmError, KVM_EFAULT, KVM_EOPNOTSUPP, type HostClock, type Vcpu } from '@kvmlab/hypervisor-core';
import { encodeClockPairing } from '../abi/pvclock-abi.js';
import { KVM_CLOCK_PAIRING_WALLCLOCK, NSEC_PER_SEC } from '../constants.js';
import type { VcpuTscState } from './tsc.js';

export interface ClockPairingOptions {
  /** The 2022 check that refuses vCPUs in TSC catch-up mode (absent in older hosts). */
  readonly checkTscAlwaysCatchup: boolean;
}

/**
 * models kvm_get_walltime_and_clockread() (arch/x86/kvm/x86.c): CLOCK_REALTIME and the raw
 * host TSC it was computed from, only if the host clocksource is TSC-based (vclock mode TSC;
 * Hyper-V's HVCLOCK is not modelled).
 */
export function kvmGetWalltimeAndClockread(host: HostClock): { sec: bigint; nsec: bigint; cycle: bigint } | undefined {
  if (host.clocksource.vdsoClockMode !== 'tsc') return undefined;
  const s = host.ktimeGetSnapshot();
  // A timespec64: floor division, so nsec stays in [0, 1e9) for any sign.
  let sec = s.real / NSEC_PER_SEC;
  let nsec = s.real % NSEC_PER_SEC;
  if (nsec < 0n) {
    sec -= 1n;
    nsec += NSEC_PER_SEC;
  }
  return { sec, nsec, cycle: s.cycles };
}

/**
 * models kvm_pv_clock_pairing() (arch/x86/kvm/x86.c). Checks in the kernel's order: clock
 * type, TSC catch-up, TSC-based host clocksource; then one kvm_write_guest() of 64 bytes at
 * `paddr` (no alignment check; it may span pages and slots). Returns RAX.
 */
export function kvmPvClockPairing(
  vcpu: Vcpu,
  st: VcpuTscState,
  paddr: bigint,
  clockType: bigint,
  opts: ClockPairingOptions,
): bigint {
  if (clockType !== BigInt(KVM_CLOCK_PAIRING_WALLCLOCK)) return -BigInt(KVM_EOPNOTSUPP);
  if (opts.checkTscAlwaysCatchup && st.tscAlwaysCatchup) return -BigInt(KVM_EOPNOTSUPP);
  const w = kvmGetWalltimeAndClockread(vcpu.vm.hv.host);
  if (w === undefined) return -BigInt(KVM_EOPNOTSUPP);
  const bytes = encodeClockPairing({ sec: w.sec, nsec: w.nsec, tsc: vcpu.l1Tsc(w.cycle), flags: 0 });
  try {
    vcpu.vm.kvmWriteGuest(paddr, bytes);
  } catch (e) {
    if (isKvmError(e)) return -BigInt(KVM_EFAULT);
    throw e;
  }
  return 0n;
}
