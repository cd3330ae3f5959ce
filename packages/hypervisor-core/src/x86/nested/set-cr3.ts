/**
 * vmx_set_cr3() (vmx.c): called only from kvm_mmu_load_cr3() while entering a guest. It always
 * writes EPT_POINTER (with EPT); what it does with GUEST_CR3 is the `vmxSetCr3GuestCr3` hook,
 * whose default is Linux 5.3/5.4.
 */
import { makeEptp, VMX_EPTP_AD_ENABLE_BIT } from '../ept.js';
import { EPT_POINTER, GUEST_CR3 } from '../vmcs-fields.js';
import { VMX_EPT_IDENTITY_PAGETABLE_ADDR } from './kvm-constants.js';
import { isPaging, kvmReadCr3 } from './reg-cache.js';
import type { NestedVcpuState } from './shapes.js';

/** nested_ept_ad_enabled() (nested.h): EPTP12 asks for accessed/dirty flags. */
export function nestedEptAdEnabled(nv: NestedVcpuState): boolean {
  const v12 = nv.cachedVmcs12;
  return v12 !== null && (v12.get(EPT_POINTER) & VMX_EPTP_AD_ENABLE_BIT) !== 0n;
}

/** models construct_eptp() (vmx.c): WB, 4-level walk, A/D if ept_ad and (L1 runs, or EPTP12 bit 6). */
export function constructEptp(nv: NestedVcpuState, rootHpa: bigint): bigint {
  const ad = nv.engine.params.eptAd && (!nv.vcpu.x86.guestMode || nestedEptAdEnabled(nv));
  return makeEptp(rootHpa, ad);
}

/** Linux 5.3/5.4's GUEST_CR3 choice in vmx_set_cr3(): decache (VMREAD) if needed, then write it back. */
export function defaultVmxSetCr3GuestCr3(nv: NestedVcpuState): bigint | null {
  if (nv.engine.params.unrestrictedGuest || isPaging(nv) || nv.vcpu.x86.guestMode) return kvmReadCr3(nv);
  return VMX_EPT_IDENTITY_PAGETABLE_ADDR;
}

/** models vmx_set_cr3() (vmx.c). Without EPT, GUEST_CR3 is KVM's shadow root and is always written. */
export function vmxSetCr3(nv: NestedVcpuState, rootHpa: bigint): void {
  const vmcs = nv.loaded;
  let guestCr3: bigint | null = rootHpa;
  if (nv.engine.params.ept) {
    vmcs.vmwrite(EPT_POINTER, constructEptp(nv, rootHpa));
    guestCr3 = nv.engine.ops.vmxSetCr3GuestCr3(nv);
  }
  if (guestCr3 !== null) vmcs.vmwrite(GUEST_CR3, guestCr3);
}
