/**
 * load_vmcs12_host_state() (arch/x86/kvm/vmx/nested.c of v5.4): after a nested VM-Exit (or a
 * VM-entry failure during guest-state loading) L1 continues with the host state of vmcs12,
 * written into vmcs01 and vcpu->arch. The CR3 part goes through nested_vmx_load_cr3(), so L1's
 * MMU gets a new root (or a cached one and KVM_REQ_LOAD_CR3).
 */
import * as F from '../vmcs-fields.js';
import {
  SECONDARY_EXEC_ENABLE_VPID, VM_EXIT_HOST_ADDR_SPACE_SIZE, VM_EXIT_LOAD_IA32_EFER, VM_EXIT_LOAD_IA32_PAT,
} from '../vmx-controls.js';
import { EFER_LMA, EFER_LME, X86_EFLAGS_FIXED } from '../x86-regs.js';
import { nestedCpuHas2, nestedCpuHasEpt } from './checks.js';
import { vmxSetCr0, vmxSetCr4, vmxSetEfer, vmxSetRflags } from './control-regs.js';
import { nestedVmxLoadCr3 } from './load-cr3.js';
import type { NestedVcpuState } from './shapes.js';
import type { Vmcs12 } from './vmcs12.js';

/** The host segment registers of vmcs12 and the vmcs01 guest fields vmx_set_segment() writes for each. */
const HOST_SEGMENTS: readonly (readonly [number, number, number, number, number])[] = [
  [F.HOST_CS_SELECTOR, F.GUEST_CS_SELECTOR, F.GUEST_CS_BASE, F.GUEST_CS_LIMIT, F.GUEST_CS_AR_BYTES],
  [F.HOST_DS_SELECTOR, F.GUEST_DS_SELECTOR, F.GUEST_DS_BASE, F.GUEST_DS_LIMIT, F.GUEST_DS_AR_BYTES],
  [F.HOST_ES_SELECTOR, F.GUEST_ES_SELECTOR, F.GUEST_ES_BASE, F.GUEST_ES_LIMIT, F.GUEST_ES_AR_BYTES],
  [F.HOST_SS_SELECTOR, F.GUEST_SS_SELECTOR, F.GUEST_SS_BASE, F.GUEST_SS_LIMIT, F.GUEST_SS_AR_BYTES],
  [F.HOST_FS_SELECTOR, F.GUEST_FS_SELECTOR, F.GUEST_FS_BASE, F.GUEST_FS_LIMIT, F.GUEST_FS_AR_BYTES],
  [F.HOST_GS_SELECTOR, F.GUEST_GS_SELECTOR, F.GUEST_GS_BASE, F.GUEST_GS_LIMIT, F.GUEST_GS_AR_BYTES],
  [F.HOST_TR_SELECTOR, F.GUEST_TR_SELECTOR, F.GUEST_TR_BASE, F.GUEST_TR_LIMIT, F.GUEST_TR_AR_BYTES],
];

/** Access rights KVM gives the host segments (SDM §27.5.2): code 64-bit or 32-bit, data, busy TSS. */
function hostSegmentAr(sel: number, longMode: boolean): bigint {
  if (sel === F.HOST_CS_SELECTOR) return longMode ? 0xa09bn : 0xc09bn;
  if (sel === F.HOST_TR_SELECTOR) return 0x8bn;
  return 0xc093n;
}

/** nested_ept_uninit_mmu_context() (nested.c): back to L1's MMU. */
export function nestedEptUninitMmuContext(nv: NestedVcpuState): void {
  nv.mmu = nv.rootMmu;
  nv.engine.ops.nestedEptUninit?.(nv);
}

/** models load_vmcs12_host_state() (nested.c). vmcs01 must be loaded. */
export function loadVmcs12HostState(nv: NestedVcpuState, v12: Vmcs12): void {
  const exit = v12.get(F.VM_EXIT_CONTROLS);
  const exitHas = (bit: number): boolean => (exit & BigInt(bit >>> 0)) !== 0n;
  let efer = nv.vcpu.x86.efer;
  if (exitHas(VM_EXIT_LOAD_IA32_EFER)) efer = v12.get(F.HOST_IA32_EFER);
  else if (exitHas(VM_EXIT_HOST_ADDR_SPACE_SIZE)) efer |= EFER_LMA | EFER_LME;
  else efer &= ~(EFER_LMA | EFER_LME);
  vmxSetEfer(nv, efer);
  nv.vcpu.x86.rip = v12.get(F.HOST_RIP); // kvm_rip_write(); RSP is not modelled
  vmxSetRflags(nv, X86_EFLAGS_FIXED);
  vmxSetCr0(nv, v12.get(F.HOST_CR0));
  vmxSetCr4(nv, v12.get(F.HOST_CR4));
  nestedEptUninitMmuContext(nv);
  // Only a PDPTE load could fail here (VM entry checked HOST_CR3), and PAE paging is not modelled.
  nestedVmxLoadCr3(nv, v12.get(F.HOST_CR3), false);
  if (nv.engine.params.vpid && !(nestedCpuHas2(v12, SECONDARY_EXEC_ENABLE_VPID) && nestedCpuHasEpt(v12))) nv.requests.add('TLB_FLUSH');
  const v01 = nv.loaded;
  v01.vmwrite(F.GUEST_SYSENTER_CS, v12.get(F.HOST_IA32_SYSENTER_CS));
  v01.vmwrite(F.GUEST_SYSENTER_ESP, v12.get(F.HOST_IA32_SYSENTER_ESP));
  v01.vmwrite(F.GUEST_SYSENTER_EIP, v12.get(F.HOST_IA32_SYSENTER_EIP));
  v01.vmwrite(F.GUEST_IDTR_BASE, v12.get(F.HOST_IDTR_BASE));
  v01.vmwrite(F.GUEST_GDTR_BASE, v12.get(F.HOST_GDTR_BASE));
  v01.vmwrite(F.GUEST_IDTR_LIMIT, 0xffffn);
  v01.vmwrite(F.GUEST_GDTR_LIMIT, 0xffffn);
  if (exitHas(VM_EXIT_LOAD_IA32_PAT)) v01.vmwrite(F.GUEST_IA32_PAT, v12.get(F.HOST_IA32_PAT));
  const longMode = exitHas(VM_EXIT_HOST_ADDR_SPACE_SIZE);
  for (const [hostSel, sel, base, limit, ar] of HOST_SEGMENTS) {
    v01.vmwrite(sel, v12.get(hostSel));
    const baseValue = hostSel === F.HOST_FS_SELECTOR ? v12.get(F.HOST_FS_BASE)
      : hostSel === F.HOST_GS_SELECTOR ? v12.get(F.HOST_GS_BASE)
        : hostSel === F.HOST_TR_SELECTOR ? v12.get(F.HOST_TR_BASE) : 0n;
    v01.vmwrite(base, baseValue);
    v01.vmwrite(limit, hostSel === F.HOST_TR_SELECTOR ? 0x67n : 0xffff_ffffn);
    v01.vmwrite(ar, hostSegmentAr(hostSel, longMode));
  }
  v01.vmwrite(F.GUEST_IA32_DEBUGCTL, 0n);
}
