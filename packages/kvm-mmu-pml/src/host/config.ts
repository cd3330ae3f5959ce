/**
 * L0's configuration: the module parameters that decide how dirty pages are tracked
 * (kvm_intel enable_pml and ept_ad, arch/x86/kvm/vmx/vmx.c) and the kernel being modelled.
 */
import { VMX_EPT_ACCESS_BIT, VMX_EPT_DIRTY_BIT } from '@kvmlab/hypervisor-core';
import { spteKinds, type SpteKinds, type Variant } from './spte.js';

export interface KvmMmuPmlOptions {
  /** 'pre-fix' = Linux 5.3, 'merged' = Linux 5.4 (default). */
  readonly variant?: Variant;
  /** kvm_intel.enable_pml (default true). PML also needs ept_ad. */
  readonly enablePml?: boolean;
  /**
   * kvm_intel.ept_ad, i.e. enable_ept_ad_bits (default true). Without it L0's SPTEs have no
   * A/D flags, L1 is not offered EPT A/D (EPTP12 bit 6 fails VM entry) and PML is off.
   */
  readonly eptAd?: boolean;
}

export interface L0Config {
  readonly variant: Variant;
  readonly kinds: SpteKinds;
  /** enable_ept_ad_bits. */
  readonly eptAd: boolean;
  /** enable_pml after vmx hardware setup: requested and ept_ad (vmx.c hardware_setup). */
  readonly pml: boolean;
  /** shadow_accessed_mask / shadow_dirty_mask (kvm_mmu_set_mask_ptes from ept_set_mmio…). */
  readonly shadowAccessedMask: bigint;
  readonly shadowDirtyMask: bigint;
}

// models hardware_setup() (arch/x86/kvm/vmx/vmx.c): PML needs EPT A/D bits
export function l0Config(opts: KvmMmuPmlOptions = {}): L0Config {
  const variant = opts.variant ?? 'merged';
  if (variant !== 'pre-fix' && variant !== 'merged') {
    throw new RangeError(`kvm-mmu-pml: unknown variant "${String(variant)}" (pre-fix | merged)`);
  }
  const eptAd = opts.eptAd ?? true;
  return {
    variant,
    kinds: spteKinds(variant),
    eptAd,
    pml: (opts.enablePml ?? true) && eptAd,
    shadowAccessedMask: eptAd ? VMX_EPT_ACCESS_BIT : 0n,
    shadowDirtyMask: eptAd ? VMX_EPT_DIRTY_BIT : 0n,
  };
}
