/**
 * The three ways Linux has written vmcs02.GUEST_CR3, as hooks into the nested-VMX engine of
 * hypervisor-core (which models nested.c and vmx.c of v5.3/v5.4 and so *is* the pre-fix
 * behaviour). Each hook is one hunk of the patch it names; nothing here looks for the symptom.
 */
import {
  GUEST_CR3, isCr3Available, isPaging, type NestedVcpuState, type NvmxOps, VMX_EPT_IDENTITY_PAGETABLE_ADDR, type Vmcs12,
} from '@kvmlab/hypervisor-core';

export type NvmxVariant = 'pre-fix' | 'rfc-muen' | 'merged';
export const NVMX_VARIANTS: readonly NvmxVariant[] = ['pre-fix', 'rfc-muen', 'merged'];

/**
 * Reto Buerki's RFC "KVM: VMX: Always sync CR3 to VMCS in nested_vmx_load_cr3" (26 Sep 2019),
 * its one hunk: write the new CR3 into the loaded VMCS — vmcs02 at nested VM-Enter, vmcs01 at
 * nested VM-Exit — right after nested_vmx_load_cr3()'s checks.
 */
function rfcNestedLoadCr3(nv: NestedVcpuState, cr3: bigint): void {
  nv.loaded.vmwrite(GUEST_CR3, cr3);
}

/**
 * "KVM: nVMX: Always write vmcs02.GUEST_CR3 during nested VM-Enter" (v2 1/8, 04f11ef45810), hunk
 * in prepare_vmcs02(): right after nested_vmx_load_cr3(), with EPT, vmcs02 gets vmcs12's CR3.
 */
function mergedPrepareVmcs02Cr3(nv: NestedVcpuState, vmcs12: Vmcs12): void {
  if (nv.engine.params.ept) nv.vmcs02.vmwrite(GUEST_CR3, vmcs12.get(GUEST_CR3));
}

/**
 * vmx_set_cr3() after v2 1/8 and 2/8 ("KVM: VMX: Skip GUEST_CR3 VMREAD+VMWRITE if the VMCS is
 * up-to-date"): in guest mode nested VM-Enter owns GUEST_CR3 (1/8); outside it, write only a
 * cached CR3 and otherwise leave vmcs01 alone instead of decaching it only to write it back (2/8).
 */
function mergedVmxSetCr3GuestCr3(nv: NestedVcpuState): bigint | null {
  if (nv.vcpu.x86.guestMode) return null; // hunk of 1/8
  if (!nv.engine.params.unrestrictedGuest && !isPaging(nv)) return VMX_EPT_IDENTITY_PAGETABLE_ADDR;
  if (isCr3Available(nv)) return nv.vcpu.x86.cr3; // hunks of 2/8
  return null;
}

/** The engine hooks a variant fills (pre-fix: none, Linux 5.3/5.4 as the engine has it). */
export function guestCr3Hooks(variant: NvmxVariant): Partial<NvmxOps> {
  switch (variant) {
    case 'pre-fix':
      return {};
    case 'rfc-muen':
      return { nestedLoadCr3: rfcNestedLoadCr3 };
    case 'merged':
      return { prepareVmcs02Cr3: mergedPrepareVmcs02Cr3, vmxSetCr3GuestCr3: mergedVmxSetCr3GuestCr3 };
  }
}
