/**
 * The register cache (vcpu->arch.regs_avail / regs_dirty) for CR3. After every hardware exit
 * CR3 is "not available"; the next kvm_read_cr3() decaches it with a VMREAD of GUEST_CR3 from
 * whichever VMCS is loaded at that moment — vmcs02 right after vmx_switch_vmcs(vmcs02).
 */
import { GUEST_CR3 } from '@kvmlab/hypervisor-core';
import { VCPU_EXREG_CR3, VCPU_EXREG_PDPTR, VCPU_EXREG_RFLAGS, VCPU_EXREG_SEGMENTS, VCPU_REGS_RIP, VCPU_REGS_RSP, X86_CR0_PG } from '../constants.js';
import type { NestedVcpu } from './nested-state.js';

const bit = (n: number): number => 1 << n;

/** Bits vmx_vcpu_run() drops from regs_avail after a VM exit (arch/x86/kvm/vmx/vmx.c). */
export const REGS_DROPPED_ON_EXIT =
  bit(VCPU_REGS_RIP) | bit(VCPU_REGS_RSP) | bit(VCPU_EXREG_RFLAGS) | bit(VCPU_EXREG_PDPTR) | bit(VCPU_EXREG_SEGMENTS) | bit(VCPU_EXREG_CR3);

export function isCr3Available(nv: NestedVcpu): boolean {
  return (nv.regsAvail & bit(VCPU_EXREG_CR3)) !== 0;
}

export function markCr3Available(nv: NestedVcpu): void {
  nv.regsAvail |= bit(VCPU_EXREG_CR3);
}

/** What vmx_vcpu_run() does to the cache after every hardware VM exit (arch/x86/kvm/vmx/vmx.c). */
export function afterHardwareExit(nv: NestedVcpu): void {
  nv.regsAvail = ~REGS_DROPPED_ON_EXIT;
  nv.regsDirty = 0;
}

/** is_paging(): L1's CR0.PG (in guest mode KVM looks at the L2 CR0, which has PG in this model). */
export function isPaging(nv: NestedVcpu): boolean {
  return nv.guestMode || (nv.cr0 & X86_CR0_PG) !== 0n;
}

function urg(nv: NestedVcpu): boolean {
  return nv.cfg.enableEpt && nv.cfg.unrestrictedGuest;
}

/** models vmx_decache_cr3() (arch/x86/kvm/vmx/vmx.c): VMREAD GUEST_CR3 of the loaded VMCS. */
export function vmxDecacheCr3(nv: NestedVcpu): void {
  if (urg(nv) || (nv.cfg.enableEpt && isPaging(nv))) nv.cr3 = nv.loaded.vmread(GUEST_CR3);
  markCr3Available(nv);
}

/** models kvm_read_cr3() (arch/x86/kvm/kvm_cache_regs.h). */
export function kvmReadCr3(nv: NestedVcpu): bigint {
  if (!isCr3Available(nv)) vmxDecacheCr3(nv);
  return nv.cr3;
}

export { urg as unrestrictedGuestEnabled };
