/**
 * L0's emulation of the VMX instructions L1 executes (handle_vmon, handle_vmclear,
 * handle_vmptrld, handle_vmread, handle_vmwrite, handle_vmlaunch/handle_vmresume in
 * arch/x86/kvm/vmx/nested.c). Every one is an exit from L1; results go back as RFLAGS
 * (VMsucceed, VMfailInvalid = CF, VMfailValid = ZF + VM_INSTRUCTION_ERROR), never as throws.
 */
import {
  isValidVmcsEncoding, VM_INSTRUCTION_ERROR, VMCS_FIELD_NAMES, VMXERR_UNSUPPORTED_VMCS_COMPONENT,
  VMXERR_VMLAUNCH_NONCLEAR_VMCS, VMXERR_VMPTRLD_INCORRECT_VMCS_REVISION_ID, VMXERR_VMPTRLD_INVALID_ADDRESS,
  VMXERR_VMPTRLD_VMXON_POINTER, VMXERR_VMRESUME_NONLAUNCHED_VMCS, readLe,
} from '@kvmlab/hypervisor-core';
import {
  MAXPHYADDR, VMCS12_REVISION, VMXERR_VMCLEAR_INVALID_ADDRESS, VMXERR_VMCLEAR_VMXON_POINTER,
  VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT, VMXERR_VMXON_IN_VMX_ROOT_OPERATION, X86_EFLAGS_CF, X86_EFLAGS_FIXED, X86_EFLAGS_ZF,
} from '../constants.js';
import type { NestedVcpu } from './nested-state.js';
import { nestedVmxRun } from './nested-vmenter.js';
import { countMark, finishEntryCount } from './op-counts.js';
import { afterHardwareExit } from './reg-cache.js';
import { vcpuEnterL1, vcpuRunNested } from './vcpu-run.js';
import { Vmcs12 } from './vmcs12.js';

export type VmxInsnName = 'vmxon' | 'vmclear' | 'vmptrld' | 'vmread' | 'vmwrite' | 'vmlaunch' | 'vmresume';
export const VMX_INSN_NAMES: readonly VmxInsnName[] = ['vmxon', 'vmclear', 'vmptrld', 'vmread', 'vmwrite', 'vmlaunch', 'vmresume'];

/** Result of one emulated instruction: RFLAGS, an output value (VMREAD), and whether L1 ever ran again. */
export interface VmxInsnResult {
  readonly rflags: bigint;
  readonly value: bigint;
  /** True if the vCPU stayed in L2 with nothing that could ever wake it (the instruction never completes). */
  readonly hung: boolean;
}

const ok = (value = 0n): VmxInsnResult => ({ rflags: X86_EFLAGS_FIXED, value, hung: false });
const failInvalid = (): VmxInsnResult => ({ rflags: X86_EFLAGS_FIXED | X86_EFLAGS_CF, value: 0n, hung: false });

/** nested_vmx_failValid(): ZF and the error number in the current vmcs12 (failInvalid without one). */
function failValid(nv: NestedVcpu, error: number): VmxInsnResult {
  const v12 = nv.vmcs12;
  if (v12 === undefined) return failInvalid();
  v12.set(VM_INSTRUCTION_ERROR, BigInt(error));
  return { rflags: X86_EFLAGS_FIXED | X86_EFLAGS_ZF, value: 0n, hung: false };
}

/** page_address_valid(): 4 KiB aligned and below MAXPHYADDR. */
function pageAddressValid(nv: NestedVcpu, gpa: bigint): boolean {
  return gpa >= 0n && (gpa & 0xfffn) === 0n && gpa >> BigInt(MAXPHYADDR) === 0n && nv.vcpu.vm.memory.isMapped(gpa, 4);
}

function revisionOf(nv: NestedVcpu, gpa: bigint): number {
  return Number(readLe(nv.vcpu.vm.memory.read(gpa, 4), 0, 4));
}

/** Fields KVM's vmcs12 layout has (vmcs_field_to_offset() ≥ 0): the ones this model names. */
function vmcs12HasField(field: number): boolean {
  return isValidVmcsEncoding(field) && VMCS_FIELD_NAMES.has(field);
}

/** Bits 11:10 = 1: the read-only "VM-exit information" class (SDM vol. 3 §24.11.2). */
function isReadOnlyField(field: number): boolean {
  return ((field >> 10) & 3) === 1;
}

function vmLaunchOrResume(nv: NestedVcpu, launch: boolean): VmxInsnResult {
  const v12 = nv.vmcs12;
  if (v12 === undefined) return failInvalid();
  if (launch && v12.launched) return failValid(nv, VMXERR_VMLAUNCH_NONCLEAR_VMCS);
  if (!launch && !v12.launched) return failValid(nv, VMXERR_VMRESUME_NONLAUNCHED_VMCS);
  nv.entryMark = countMark(nv);
  nv.entryLaunch = launch;
  const r = nestedVmxRun(nv, v12);
  if (r.kind === 'vmfail-valid') {
    nv.entryMark = null;
    return failValid(nv, r.error);
  }
  nv.stats.nestedEntries++;
  if (r.kind === 'failed-entry') {
    nv.stats.failedEntries++;
    finishEntryCount(nv, false, v12.ptr);
    return ok();
  }
  if (r.kind === 'squashed') {
    nv.stats.squashedEntries++;
    finishEntryCount(nv, true, v12.ptr);
  }
  const back = vcpuRunNested(nv);
  return back ? ok() : { ...ok(), hung: true };
}

/** Emulates one VMX instruction from L1 (the vCPU is in VMX root operation, not guest mode). */
export function emulateVmxInsn(nv: NestedVcpu, insn: VmxInsnName, operand: bigint, value: bigint): VmxInsnResult | undefined {
  if (nv.guestMode) return undefined;
  afterHardwareExit(nv);
  nv.vcpu.vm.hv.sim.elapse(nv.cfg.exitCostNs);
  if (insn !== 'vmxon' && !nv.vmxon) return undefined; // #UD outside VMX operation
  let res: VmxInsnResult;
  switch (insn) {
    case 'vmxon':
      if (nv.vmxon) res = failValid(nv, VMXERR_VMXON_IN_VMX_ROOT_OPERATION);
      else if (!pageAddressValid(nv, operand) || revisionOf(nv, operand) !== VMCS12_REVISION) res = failInvalid();
      else {
        nv.vmxon = true;
        nv.vmxonPtr = operand;
        res = ok();
      }
      break;
    case 'vmclear':
      if (!pageAddressValid(nv, operand)) res = failValid(nv, VMXERR_VMCLEAR_INVALID_ADDRESS);
      else if (operand === nv.vmxonPtr) res = failValid(nv, VMXERR_VMCLEAR_VMXON_POINTER);
      else {
        const v12 = nv.vmcs12s.get(operand);
        if (v12 !== undefined) v12.launched = false;
        if (operand === nv.currentVmptr) nv.currentVmptr = -1n;
        res = ok();
      }
      break;
    case 'vmptrld':
      if (!pageAddressValid(nv, operand)) res = failValid(nv, VMXERR_VMPTRLD_INVALID_ADDRESS);
      else if (operand === nv.vmxonPtr) res = failValid(nv, VMXERR_VMPTRLD_VMXON_POINTER);
      else if (revisionOf(nv, operand) !== VMCS12_REVISION) res = failValid(nv, VMXERR_VMPTRLD_INCORRECT_VMCS_REVISION_ID);
      else {
        if (!nv.vmcs12s.has(operand)) nv.vmcs12s.set(operand, new Vmcs12(operand));
        nv.currentVmptr = operand;
        res = ok();
      }
      break;
    case 'vmread': {
      const v12 = nv.vmcs12;
      const field = Number(operand & 0xffff_ffffn);
      if (v12 === undefined) res = failInvalid();
      else if (operand > 0xffff_ffffn || !vmcs12HasField(field)) res = failValid(nv, VMXERR_UNSUPPORTED_VMCS_COMPONENT);
      else {
        v12.l1Vmreads++;
        res = ok(v12.get(field));
      }
      break;
    }
    case 'vmwrite': {
      const v12 = nv.vmcs12;
      const field = Number(operand & 0xffff_ffffn);
      if (v12 === undefined) res = failInvalid();
      else if (operand > 0xffff_ffffn || !vmcs12HasField(field)) res = failValid(nv, VMXERR_UNSUPPORTED_VMCS_COMPONENT);
      else if (isReadOnlyField(field)) res = failValid(nv, VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT);
      else {
        v12.l1Vmwrites++;
        v12.set(field, value);
        res = ok();
      }
      break;
    }
    case 'vmlaunch':
    case 'vmresume':
      res = vmLaunchOrResume(nv, insn === 'vmlaunch');
      break;
  }
  if (!nv.guestMode) vcpuEnterL1(nv);
  return res;
}
