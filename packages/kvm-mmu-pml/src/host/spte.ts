/**
 * SPTE kinds and the helpers that read and change them. The variant switches the kind
 * encoding, exactly as "KVM: x86: assign two bits to track SPTE kinds" did: 5.3 marks an
 * A/D-disabled SPTE (and an MMIO SPTE) with the single bit 62; 5.4 spends bits 53:52 on
 * four kinds, one of them AD_WRPROT_ONLY. Everything else here is the same in both kernels.
 */
import { VMX_EPT_ACCESS_BIT, VMX_EPT_DIRTY_BIT, VMX_EPT_RWX_MASK } from '@kvmlab/hypervisor-core';
import {
  K53_PT64_SECOND_AVAIL_BITS_SHIFT,
  K53_SPTE_SPECIAL_MASK,
  K54_PT64_SECOND_AVAIL_BITS_SHIFT,
  PT_WRITABLE_MASK,
  SPTE_AD_DISABLED_MASK,
  SPTE_AD_ENABLED_MASK,
  SPTE_AD_WRPROT_ONLY_MASK,
  SPTE_MMIO_MASK,
  SPTE_SPECIAL_MASK,
  VMX_EPT_MISCONFIG_WX_VALUE,
} from '../constants.js';

export type Variant = 'pre-fix' | 'merged';
export const VARIANTS: readonly Variant[] = ['pre-fix', 'merged'];

/** The kind encoding of one kernel. */
export interface SpteKinds {
  readonly kernel: 'v5.3' | 'v5.4';
  /** SPTE_SPECIAL_MASK: the bits that hold the kind. */
  readonly specialMask: bigint;
  /** The value of those bits in an A/D-disabled SPTE (k53: shadow_acc_track_value). */
  readonly adDisabled: bigint;
  /** The value in a write-protect-only SPTE; k53 has no such kind. */
  readonly adWrprotOnly: bigint | undefined;
  /** The value in an MMIO SPTE (part of shadow_mmio_value). */
  readonly mmio: bigint;
  /** PT64_SECOND_AVAIL_BITS_SHIFT: where access tracking saves R/X (moved so as not to clash). */
  readonly secondAvailShift: bigint;
  /** specialMask and adDisabled >> 32, as numbers (the kind bits are all above bit 31). */
  readonly specialMaskHi: number;
  readonly adDisabledHi: number;
}

const high = (x: bigint): number => Number(x >> 32n);
const AD_ENABLED_HI = high(SPTE_AD_ENABLED_MASK);

export function spteKinds(variant: Variant): SpteKinds {
  // hunk: arch/x86/include/asm/kvm_host.h and mmu.c of "assign two bits to track SPTE kinds"
  if (variant === 'pre-fix') {
    return {
      kernel: 'v5.3',
      specialMask: K53_SPTE_SPECIAL_MASK,
      adDisabled: K53_SPTE_SPECIAL_MASK,
      adWrprotOnly: undefined,
      mmio: K53_SPTE_SPECIAL_MASK,
      secondAvailShift: K53_PT64_SECOND_AVAIL_BITS_SHIFT,
      specialMaskHi: high(K53_SPTE_SPECIAL_MASK),
      adDisabledHi: high(K53_SPTE_SPECIAL_MASK),
    };
  }
  return {
    kernel: 'v5.4',
    specialMask: SPTE_SPECIAL_MASK,
    adDisabled: SPTE_AD_DISABLED_MASK,
    adWrprotOnly: SPTE_AD_WRPROT_ONLY_MASK,
    mmio: SPTE_MMIO_MASK,
    secondAvailShift: K54_PT64_SECOND_AVAIL_BITS_SHIFT,
    specialMaskHi: high(SPTE_SPECIAL_MASK),
    adDisabledHi: high(SPTE_AD_DISABLED_MASK),
  };
}

// models spte_ad_enabled() (arch/x86/kvm/mmu.c): the kind is not "A/D disabled"
export function spteAdEnabled(k: SpteKinds, spte: bigint): boolean {
  return (spte & k.specialMask) !== k.adDisabled;
}

/** spteAdEnabled() of a leaf, from its high half (the kind bits are all in bits 63:32): no bigint. */
export function leafAdEnabled(k: SpteKinds, s: { readonly hi: number }): boolean {
  return (s.hi & k.specialMaskHi) !== k.adDisabledHi;
}

/** spteAdNeedWriteProtect() of a leaf, from its high half. */
export function leafAdNeedWriteProtect(k: SpteKinds, s: { readonly hi: number }): boolean {
  return (s.hi & k.specialMaskHi) !== AD_ENABLED_HI;
}

// models spte_ad_need_write_protect() (arch/x86/kvm/mmu.c, v5.4 only): any kind but AD_ENABLED
export function spteAdNeedWriteProtect(k: SpteKinds, spte: bigint): boolean {
  return (spte & k.specialMask) !== SPTE_AD_ENABLED_MASK;
}

// models is_mmio_spte() for EPT (mmu.c): the misconfiguration value plus the MMIO kind
export function isMmioSpte(k: SpteKinds, spte: bigint): boolean {
  return (spte & (VMX_EPT_RWX_MASK | k.specialMask)) === (VMX_EPT_MISCONFIG_WX_VALUE | k.mmio);
}

/** A readable name of the kind bits, for reports and tests. */
export function spteKindName(k: SpteKinds, spte: bigint): 'AD_ENABLED' | 'AD_DISABLED' | 'AD_WRPROT_ONLY' | 'MMIO' {
  if (isMmioSpte(k, spte)) return 'MMIO';
  const bits = spte & k.specialMask;
  if (bits === k.adDisabled) return 'AD_DISABLED';
  if (k.adWrprotOnly !== undefined && bits === k.adWrprotOnly) return 'AD_WRPROT_ONLY';
  return 'AD_ENABLED';
}

export const isWritableSpte = (spte: bigint): boolean => (spte & PT_WRITABLE_MASK) !== 0n;
export const isDirtySpte = (spte: bigint): boolean => (spte & VMX_EPT_DIRTY_BIT) !== 0n;
export const isAccessedSpte = (spte: bigint): boolean => (spte & VMX_EPT_ACCESS_BIT) !== 0n;

// models spte_shadow_dirty_mask() (mmu.c): D only exists in SPTEs whose kind has A/D
export function spteShadowDirtyMask(k: SpteKinds, spte: bigint, shadowDirtyMask: bigint): bigint {
  return spteAdEnabled(k, spte) ? shadowDirtyMask : 0n;
}

// models spte_shadow_accessed_mask() (mmu.c)
export function spteShadowAccessedMask(k: SpteKinds, spte: bigint, shadowAccessedMask: bigint): bigint {
  return spteAdEnabled(k, spte) ? shadowAccessedMask : 0n;
}
