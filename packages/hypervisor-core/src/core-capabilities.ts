/**
 * The capabilities hypervisor-core itself implements, answered as
 * kvm_vm_ioctl_check_extension_generic() and the arch switch would (virt/kvm/kvm_main.c,
 * arch/x86/kvm/x86.c, arch/arm64/kvm/arm.c). Everything else is 0 unless a plugin answers it.
 */
import {
  KVM_CAP_CHECK_EXTENSION_VM,
  KVM_CAP_DESTROY_MEMORY_REGION_WORKS,
  KVM_CAP_ENABLE_CAP,
  KVM_CAP_ENABLE_CAP_VM,
  KVM_CAP_JOIN_MEMORY_REGIONS_WORKS,
  KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
  KVM_CAP_MAX_VCPU_ID,
  KVM_CAP_MAX_VCPUS,
  KVM_CAP_MULTI_ADDRESS_SPACE,
  KVM_CAP_NR_MEMSLOTS,
  KVM_CAP_NR_VCPUS,
  KVM_CAP_ONE_REG,
  KVM_CAP_READONLY_MEM,
  KVM_CAP_SYNC_MMU,
  KVM_CAP_USER_MEMORY,
} from './constants.js';
import { KERNEL_ERAS, type KernelLimits } from './kernel-era.js';
import type { KernelRelease } from './kernel-releases.js';
import type { CapabilityDef, Arch } from './plugin/types.js';

const yes: CapabilityDef = { check: () => 1 };
const value = (v: number): CapabilityDef => ({ check: () => v });

export function coreCapabilities(arch: Arch, limits: KernelLimits = KERNEL_ERAS['5.4'], release?: KernelRelease): Map<number, CapabilityDef> {
  // 1 before KVM_DIRTY_LOG_INITIALLY_SET (5.7), KVM_DIRTY_LOG_MANUAL_CAPS from then on.
  const manualCaps = release?.manualDirtyLogCaps ?? 1;
  const caps = new Map<number, CapabilityDef>([
    [KVM_CAP_USER_MEMORY, yes],
    [KVM_CAP_DESTROY_MEMORY_REGION_WORKS, yes],
    [KVM_CAP_JOIN_MEMORY_REGIONS_WORKS, yes],
    [KVM_CAP_SYNC_MMU, yes],
    [KVM_CAP_ENABLE_CAP_VM, yes],
    [KVM_CAP_CHECK_EXTENSION_VM, yes],
    [KVM_CAP_READONLY_MEM, yes],
    [KVM_CAP_NR_MEMSLOTS, { check: (vm) => vm?.memslots.maxUserSlots ?? limits.userMemSlots }],
    [KVM_CAP_NR_VCPUS, value(limits.nrVcpus)],
    [KVM_CAP_MAX_VCPUS, value(limits.maxVcpus)],
    [KVM_CAP_MAX_VCPU_ID, value(limits.maxVcpuId)],
    [
      KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
      { check: () => manualCaps, enable: (vm, args, flags) => vm.enableManualDirtyLogProtect(args, flags, manualCaps) },
    ],
  ]);
  if (arch === 'x86_64') {
    // Only answered when there is more than one (#if KVM_ADDRESS_SPACE_NUM > 1 in kvm_main.c).
    if (limits.addressSpaces > 1) caps.set(KVM_CAP_MULTI_ADDRESS_SPACE, value(limits.addressSpaces));
    caps.set(KVM_CAP_ENABLE_CAP, yes);
  } else {
    caps.set(KVM_CAP_ONE_REG, yes);
  }
  return caps;
}
