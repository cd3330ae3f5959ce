/**
 * vmx_set_cr3(): called only from kvm_mmu_load_cr3() while entering a guest. It always
 * writes EPT_POINTER (with EPT) and, depending on the variant, GUEST_CR3 of the loaded VMCS.
 */
import { EPT_POINTER, GUEST_CR3 } from '@kvmlab/hypervisor-core';
import { VMX_EPT_IDENTITY_PAGETABLE_ADDR, VMX_EPTP_MT_WB, VMX_EPTP_PWL_4 } from '../constants.js';
import type { NestedVcpu } from './nested-state.js';
import { isCr3Available, isPaging, kvmReadCr3, unrestrictedGuestEnabled } from './reg-cache.js';

/** models construct_eptp() (arch/x86/kvm/vmx/vmx.c): WB, 4-level walk (A/D bits left out here). */
export function constructEptp(rootHpa: bigint): bigint {
  return rootHpa | VMX_EPTP_MT_WB | VMX_EPTP_PWL_4;
}

/** models vmx_set_cr3() (arch/x86/kvm/vmx/vmx.c), Linux 5.3 and with Sean Christopherson's v2 1/8 + 2/8. */
export function vmxSetCr3(nv: NestedVcpu, rootHpa: bigint): void {
  const vmcs = nv.loaded;
  let guestCr3 = rootHpa;
  let updateGuestCr3 = true;
  if (nv.cfg.enableEpt) {
    vmcs.vmwrite(EPT_POINTER, constructEptp(rootHpa));
    if (nv.cfg.variant === 'merged') {
      // hunk "KVM: nVMX: Always write vmcs02.GUEST_CR3 during nested VM-Enter" (vmx.c): nested
      // VM-Enter owns vmcs02.GUEST_CR3; and hunk "KVM: VMX: Skip GUEST_CR3 VMREAD+VMWRITE if
      // the VMCS is up-to-date": no decache, write only a cached value.
      if (nv.guestMode) updateGuestCr3 = false;
      else if (!unrestrictedGuestEnabled(nv) && !isPaging(nv)) guestCr3 = VMX_EPT_IDENTITY_PAGETABLE_ADDR;
      else if (isCr3Available(nv)) guestCr3 = nv.cr3;
      else updateGuestCr3 = false; // vmcs01.GUEST_CR3 is already up to date
    } else if (unrestrictedGuestEnabled(nv) || isPaging(nv) || nv.guestMode) {
      guestCr3 = kvmReadCr3(nv); // Linux 5.3: decache (VMREAD) if needed, then write it back
    } else {
      guestCr3 = VMX_EPT_IDENTITY_PAGETABLE_ADDR;
    }
  }
  if (updateGuestCr3) vmcs.vmwrite(GUEST_CR3, guestCr3);
}
