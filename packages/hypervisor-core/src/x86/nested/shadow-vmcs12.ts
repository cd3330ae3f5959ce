/**
 * The shadow vmcs12: when L1 runs L2 with VMCS shadowing (L2 is itself a hypervisor), KVM keeps
 * the VMCS that vmcs12's link pointer names in cached_shadow_vmcs12 while L2 runs, and writes it
 * back to L1's memory at the nested exit (nested_cache_shadow_vmcs12(),
 * nested_flush_cached_shadow_vmcs12() in arch/x86/kvm/vmx/nested.c of v5.4).
 */
import { SECONDARY_EXEC_SHADOW_VMCS } from '../vmx-controls.js';
import { VMCS_LINK_POINTER } from '../vmcs-fields.js';
import { nestedCpuHas2 } from './checks.js';
import type { NestedVcpuState } from './shapes.js';
import { VMCS12_SIZE } from './vmcs12-layout.js';
import { Vmcs12 } from './vmcs12.js';

const NO_LINK = 0xffff_ffff_ffff_ffffn;

/** vmcs12 uses VMCS shadowing with a linked VMCS. */
export const hasShadowVmcs12 = (v12: Vmcs12): boolean =>
  nestedCpuHas2(v12, SECONDARY_EXEC_SHADOW_VMCS) && v12.get(VMCS_LINK_POINTER) !== NO_LINK;

/** models nested_cache_shadow_vmcs12(). */
export function cacheShadowVmcs12(nv: NestedVcpuState, v12: Vmcs12): void {
  if (!hasShadowVmcs12(v12)) return;
  const link = v12.get(VMCS_LINK_POINTER);
  const mem = nv.vcpu.vm.memory;
  if (!mem.isMapped(link, VMCS12_SIZE)) return; // kvm_vcpu_map() failed: nothing is cached
  nv.cachedShadowVmcs12 = new Vmcs12(mem.read(link, VMCS12_SIZE));
}

/** models nested_flush_cached_shadow_vmcs12(). */
export function flushShadowVmcs12(nv: NestedVcpuState, v12: Vmcs12): void {
  const s = nv.cachedShadowVmcs12;
  if (!hasShadowVmcs12(v12) || s === null) return;
  const link = v12.get(VMCS_LINK_POINTER);
  if (nv.vcpu.vm.memory.isMapped(link, VMCS12_SIZE)) nv.vcpu.vm.kvmWriteGuest(link, s.bytes); // kvm_write_guest()
}
