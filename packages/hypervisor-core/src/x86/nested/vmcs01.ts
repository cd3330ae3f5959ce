/**
 * L0's own VMX controls for L1 and the set-up of vmcs01 (vmx_pin_based_exec_ctrl(),
 * vmx_exec_control(), vmx_compute_secondary_exec_control(), vmx_vcpu_setup() in
 * arch/x86/kvm/vmx/vmx.c of v5.4, on the model's host CPU). vmcs02 starts from these, so L0's
 * HLT exiting and PML reach every L2.
 */
import {
  CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, CPU_BASED_CR3_LOAD_EXITING, CPU_BASED_CR3_STORE_EXITING, CPU_BASED_CR8_LOAD_EXITING,
  CPU_BASED_CR8_STORE_EXITING, CPU_BASED_HLT_EXITING, CPU_BASED_INVLPG_EXITING, CPU_BASED_MONITOR_EXITING,
  CPU_BASED_MOV_DR_EXITING, CPU_BASED_MWAIT_EXITING, CPU_BASED_RDPMC_EXITING, CPU_BASED_UNCOND_IO_EXITING,
  CPU_BASED_USE_MSR_BITMAPS, CPU_BASED_USE_TSC_OFFSETING, PIN_BASED_EXT_INTR_MASK, PIN_BASED_NMI_EXITING,
  PIN_BASED_VIRTUAL_NMIS, SECONDARY_EXEC_ENABLE_EPT, SECONDARY_EXEC_ENABLE_PML, SECONDARY_EXEC_ENABLE_VPID,
  SECONDARY_EXEC_PAUSE_LOOP_EXITING, SECONDARY_EXEC_UNRESTRICTED_GUEST, SECONDARY_EXEC_WBINVD_EXITING,
  VM_ENTRY_IA32E_MODE, VM_EXIT_ACK_INTR_ON_EXIT, VM_EXIT_HOST_ADDR_SPACE_SIZE,
  PML_ENTITY_NUM,
} from '../vmx-controls.js';
import * as F from '../vmcs-fields.js';
import type { KvmIntelParams } from './params.js';
import type { NestedVcpuState } from './shapes.js';

/**
 * models vmx_pin_based_exec_ctrl(): external interrupts and NMIs always exit to L0. L0's own use of
 * the preemption timer (for the guest's APIC timer) is left out, as with kvm_intel.preemption_timer=0.
 */
export const l0PinControls = (): number => PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING | PIN_BASED_VIRTUAL_NMIS;

/** models vmx_exec_control(): HLT exiting always; CR3 and INVLPG exiting only with shadow paging; no TPR shadow, so CR8 exits. */
export function l0ExecControls(p: KvmIntelParams): number {
  let exec = CPU_BASED_HLT_EXITING | CPU_BASED_USE_TSC_OFFSETING | CPU_BASED_MWAIT_EXITING | CPU_BASED_MONITOR_EXITING |
    CPU_BASED_RDPMC_EXITING | CPU_BASED_MOV_DR_EXITING | CPU_BASED_UNCOND_IO_EXITING | CPU_BASED_USE_MSR_BITMAPS |
    CPU_BASED_ACTIVATE_SECONDARY_CONTROLS | CPU_BASED_CR8_LOAD_EXITING | CPU_BASED_CR8_STORE_EXITING;
  if (!p.ept) exec |= CPU_BASED_CR3_LOAD_EXITING | CPU_BASED_CR3_STORE_EXITING | CPU_BASED_INVLPG_EXITING;
  return exec >>> 0;
}

/** models vmx_compute_secondary_exec_control() (vmx->secondary_exec_control). */
export function l0SecondaryControls(p: KvmIntelParams): number {
  let sec = SECONDARY_EXEC_WBINVD_EXITING | SECONDARY_EXEC_PAUSE_LOOP_EXITING;
  if (p.ept) sec |= SECONDARY_EXEC_ENABLE_EPT;
  if (p.unrestrictedGuest) sec |= SECONDARY_EXEC_UNRESTRICTED_GUEST;
  if (p.vpid) sec |= SECONDARY_EXEC_ENABLE_VPID;
  if (p.pml) sec |= SECONDARY_EXEC_ENABLE_PML;
  return sec >>> 0;
}

/** vmx_vmentry_ctrl() / vmx_vmexit_ctrl(): a 64-bit guest on a 64-bit host, interrupts acknowledged on exit. */
export const l0EntryControls = (): number => VM_ENTRY_IA32E_MODE;
export const l0ExitControls = (): number => VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_ACK_INTR_ON_EXIT;

/** vmx->vpid: L0 gives each vCPU its own VPID (allocate_vpid() hands out 1, 2, …). */
export const vpidOf = (nv: NestedVcpuState): bigint => BigInt(nv.vcpu.id + 1);
/** vmx->nested.vpid02, allocated at VMXON. */
export const vpid02Of = (nv: NestedVcpuState): bigint => BigInt(0x1000 + nv.vcpu.id);

/**
 * A VMCS control as KVM writes it: through a cached copy (controls_shadow in vmx.h), so the
 * VMWRITE happens only when the value changes.
 */
export function setControl(nv: NestedVcpuState, field: number, value: number | bigint): void {
  const v = BigInt(value) & 0xffff_ffffn;
  if (nv.loaded.peek(field) !== v) nv.loaded.vmwrite(field, v);
}

/** models vmx_vcpu_setup()'s control set-up of vmcs01 (vmx.c). */
export function setupVmcs01(nv: NestedVcpuState): void {
  const p = nv.engine.params;
  nv.loaded = nv.vmcs01;
  setControl(nv, F.PIN_BASED_VM_EXEC_CONTROL, l0PinControls());
  setControl(nv, F.CPU_BASED_VM_EXEC_CONTROL, l0ExecControls(p));
  setControl(nv, F.SECONDARY_VM_EXEC_CONTROL, l0SecondaryControls(p));
  setControl(nv, F.VM_ENTRY_CONTROLS, l0EntryControls());
  setControl(nv, F.VM_EXIT_CONTROLS, l0ExitControls());
  nv.vmcs01.vmwrite(F.VMCS_LINK_POINTER, 0xffff_ffff_ffff_ffffn);
  if (p.vpid) nv.vmcs01.vmwrite(F.VIRTUAL_PROCESSOR_ID, vpidOf(nv));
  const pml = nv.engine.ops.pmlAddress;
  if (p.pml && pml !== undefined) {
    nv.vmcs01.vmwrite(F.PML_ADDRESS, pml(nv));
    nv.vmcs01.vmwrite(F.GUEST_PML_INDEX, BigInt(PML_ENTITY_NUM - 1)); // the log fills from the top
  }
}
