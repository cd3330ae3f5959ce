/**
 * The arm64 KVM host behaviour kvmlab models, by the release that changed it: what a
 * hypervisor built for `kernel` does on arm64 (the x86 timeline is KERNEL_RELEASES). Each entry
 * names its upstream commits; the series each belongs to was read on the lists (kvmarm-6.4 pull,
 * the 5.19 KVM/arm64 pull, Marc Zyngier's timer-vm-offsets v3, Oliver Upton's smccc-filtering v3).
 * A hypervisor without a kernel version is today's kernel.
 */
import { atLeastRelease, type KernelVersion } from '../kernel-version.js';
import type { HypervisorKernel } from '../kernel-releases.js';

export interface Arm64HostChange {
  /** The first mainline release with it. */
  readonly since: string;
  readonly title: string;
  /** Upstream commits (12 hex digits). */
  readonly commits: readonly string[];
}

export const ARM64_HOST_CHANGES = {
  /** KVM_REG_ARM_{STD,STD_HYP,VENDOR_HYP}_BMAP and the gate kvm_hvc_call_allowed(). */
  firmwareBitmap: {
    since: '5.19', title: 'hypercall bitmap firmware registers (KVM_REG_ARM_VENDOR_HYP_BMAP gates UID, FEATURES, PTP)',
    commits: ['05714cab7d63', '428fd6788d4d', 'b22216e1a617'],
  },
  /** kvm->arch.timer_data.voffset replaces the per-vCPU CNTVOFF kept equal by update_vtimer_cntvoff(). */
  vmVirtualOffset: {
    since: '6.3', title: 'one VM-wide virtual counter offset (a 6.3-rc fix, committed 2023-03-11)',
    commits: ['47053904e182'],
  },
  /** poffset, KVM_CAP_COUNTER_OFFSET, KVM_ARM_SET_COUNTER_OFFSET, a writable KVM_REG_ARM_PTIMER_CNT. */
  counterOffset: {
    since: '6.4', title: 'a VM-wide physical offset and KVM_ARM_SET_COUNTER_OFFSET (KVM_CAP_COUNTER_OFFSET 227)',
    commits: ['2b4825a86940', 'c605ee245097', '30ec7997d175', '680232a94c12'],
  },
  /** handle_smc(): SMC #0 from EL1 goes to kvm_smccc_call_handler(); imm ≠ 0 still gets x0 = ~0. */
  smcFromEl1: { since: '6.4', title: 'SMCs from EL1 handled like HVC (imm 0)', commits: ['c2d2e9b3d8ce', 'aac94968126b'] },
  /** KVM_ARM_VM_SMCCC_CTRL / KVM_ARM_VM_SMCCC_FILTER: HANDLE, DENY, FWD_TO_USER (KVM_EXIT_HYPERCALL). */
  smcccFilter: {
    since: '6.4', title: 'the userspace SMCCC filter and KVM_EXIT_HYPERCALL on arm64',
    commits: ['a8308b3fc949', 'fb88707dd39b', 'd824dff1919b', '821d935c87bc', '5a23ad6510c8'],
  },
} as const satisfies Record<string, Arm64HostChange>;

export type Arm64HostChangeName = keyof typeof ARM64_HOST_CHANGES;


/** Whether the kernel a hypervisor was built for has `change` (no version given: today's kernel has all). */
export function arm64HostHas(kernel: HypervisorKernel | KernelVersion | null, change: Arm64HostChangeName): boolean {
  const v = kernel === null ? null : 'major' in kernel ? kernel : kernel.version;
  return v === null || atLeastRelease(v, ARM64_HOST_CHANGES[change].since);
}
