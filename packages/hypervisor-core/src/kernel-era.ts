/**
 * Kernel eras: the few KVM limits that changed between the Linux 5.4 the model follows and
 * later kernels. A hypervisor takes `kernel` (an era name or explicit limits); every value
 * below is the kernel's for x86_64, with the header it comes from.
 */
import {
  KVM_ADDRESS_SPACE_NUM,
  KVM_MAX_VCPU_ID,
  KVM_MAX_VCPUS,
  KVM_SOFT_MAX_VCPUS,
  KVM_USER_MEM_SLOTS,
} from './constants.js';

export interface KernelLimits {
  /** A label for reports. */
  readonly name: string;
  /** KVM_USER_MEM_SLOTS: user memslot ids per address space (KVM_CAP_NR_MEMSLOTS). */
  readonly userMemSlots: number;
  /** KVM_CAP_NR_VCPUS: KVM_SOFT_MAX_VCPUS in 5.x; min(num_online_cpus(), KVM_MAX_VCPUS) later. */
  readonly nrVcpus: number;
  /** KVM_MAX_VCPUS (KVM_CAP_MAX_VCPUS). */
  readonly maxVcpus: number;
  /** KVM_MAX_VCPU_IDS: vCPU ids are below this (KVM_CAP_MAX_VCPU_ID). */
  readonly maxVcpuId: number;
  /** x86 address spaces: 2 with SMM (KVM_CAP_MULTI_ADDRESS_SPACE), 1 when CONFIG_KVM_SMM=n. */
  readonly addressSpaces: number;
  /**
   * x86: a created or moved slot must end below 2^maxGpaBits (kvm_arch_prepare_memory_region
   * against kvm_mmu_max_gfn(), 5.19+: 52 with shadow paging, the host's MAXPHYADDR with TDP).
   * Undefined: no such check (5.4).
   */
  readonly maxGpaBits?: number;
}

export type KernelEraName = '5.4' | '6.18';

export const KERNEL_ERAS: Readonly<Record<KernelEraName, KernelLimits>> = {
  /** Linux 5.4 (arch/x86/include/asm/kvm_host.h of v5.4; KVM_CAP_MAX_VCPU_ID answers KVM_MAX_VCPU_ID, x86.c): the model's default. */
  '5.4': {
    name: '5.4',
    userMemSlots: KVM_USER_MEM_SLOTS,
    nrVcpus: KVM_SOFT_MAX_VCPUS,
    maxVcpus: KVM_MAX_VCPUS,
    maxVcpuId: KVM_MAX_VCPU_ID,
    addressSpaces: KVM_ADDRESS_SPACE_NUM,
  },
  /**
   * Linux 6.18 (include/linux/kvm_host.h: KVM_USER_MEM_SLOTS = KVM_MEM_SLOTS_NUM - 3 = 32764;
   * arch/x86/include/asm/kvm_host.h: KVM_MAX_VCPUS 1024, KVM_MAX_VCPU_IDS 4096). nrVcpus
   * depends on the host's online CPUs (2 here), addressSpaces on CONFIG_KVM_SMM (default y) and
   * maxGpaBits on TDP (52 with shadow paging): override them to match a given machine.
   */
  '6.18': {
    name: '6.18',
    userMemSlots: 32764,
    nrVcpus: 2,
    maxVcpus: 1024,
    maxVcpuId: 4096,
    addressSpaces: 2,
    maxGpaBits: 52,
  },
};

/** The limits for a `kernel` option (default: 5.4). */
export function kernelLimits(kernel: KernelEraName | KernelLimits | undefined): KernelLimits {
  if (kernel === undefined) return KERNEL_ERAS['5.4'];
  return typeof kernel === 'string' ? KERNEL_ERAS[kernel] : kernel;
}
