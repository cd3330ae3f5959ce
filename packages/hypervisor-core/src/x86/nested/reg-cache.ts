/**
 * The register cache (vcpu->arch.regs_avail / regs_dirty) as far as CR3 is concerned. After every
 * hardware exit CR3 is "not available"; the next kvm_read_cr3() decaches it with a VMREAD of
 * GUEST_CR3 from whichever VMCS is loaded at that moment — vmcs02 right after vmx_switch_vmcs().
 */
import { GUEST_CR3 } from '../vmcs-fields.js';
import { X86_CR0_PG } from '../x86-regs.js';
import {
  VCPU_EXREG_CR3, VCPU_EXREG_PDPTR, VCPU_EXREG_RFLAGS, VCPU_EXREG_SEGMENTS, VCPU_REGS_RIP, VCPU_REGS_RSP,
} from './kvm-constants.js';
import type { NestedVcpuState } from './shapes.js';

const bit = (n: number): number => 1 << n;

/** Bits vmx_vcpu_run() drops from regs_avail after a VM exit (vmx.c). */
export const REGS_DROPPED_ON_EXIT =
  bit(VCPU_REGS_RIP) | bit(VCPU_REGS_RSP) | bit(VCPU_EXREG_RFLAGS) | bit(VCPU_EXREG_PDPTR) | bit(VCPU_EXREG_SEGMENTS) | bit(VCPU_EXREG_CR3);

export const isCr3Available = (nv: NestedVcpuState): boolean => (nv.regsAvail & bit(VCPU_EXREG_CR3)) !== 0;

export function markCr3Available(nv: NestedVcpuState): void {
  nv.regsAvail |= bit(VCPU_EXREG_CR3);
}

/** What vmx_vcpu_run() does to the cache after every hardware VM exit (vmx.c). */
export function afterHardwareExit(nv: NestedVcpuState): void {
  nv.regsAvail = ~REGS_DROPPED_ON_EXIT;
  nv.regsDirty = 0;
}

/** is_paging(): CR0.PG of the level that runs (L2's CR0 in guest mode). */
export const isPaging = (nv: NestedVcpuState): boolean => (nv.vcpu.x86.cr0 & X86_CR0_PG) !== 0n;

/** models vmx_decache_cr3() (vmx.c): VMREAD GUEST_CR3 of the loaded VMCS — the default decacheCr3 hook. */
export function vmxDecacheCr3(nv: NestedVcpuState): void {
  const p = nv.engine.params;
  if (p.unrestrictedGuest || (p.ept && isPaging(nv))) nv.vcpu.x86.cr3 = nv.loaded.vmread(GUEST_CR3);
  markCr3Available(nv);
}

/** models kvm_read_cr3() (kvm_cache_regs.h). */
export function kvmReadCr3(nv: NestedVcpuState): bigint {
  if (!isCr3Available(nv)) nv.engine.ops.decacheCr3(nv);
  return nv.vcpu.x86.cr3;
}
