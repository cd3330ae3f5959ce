/**
 * L0's emulation of the VMX instructions L1 executes (handle_vmon … handle_invvpid in
 * arch/x86/kvm/vmx/nested.c of v5.4). Each is an exit from L1: PML is flushed, the instruction is
 * emulated, and L1 is entered again. Outcomes are architectural — RFLAGS (VMsucceed, VMfailInvalid
 * = CF, VMfailValid = ZF + VM_INSTRUCTION_ERROR in the current vmcs12), a destination value, or a
 * #UD / #GP — never exceptions thrown at the guest.
 */
import { leBytes } from '../../bigint.js';
import * as F from '../vmcs-fields.js';
import {
  EXIT_REASON_INVEPT, EXIT_REASON_INVVPID, EXIT_REASON_VMCLEAR, EXIT_REASON_VMLAUNCH, EXIT_REASON_VMOFF, EXIT_REASON_VMON,
  EXIT_REASON_VMPTRLD, EXIT_REASON_VMPTRST, EXIT_REASON_VMREAD, EXIT_REASON_VMRESUME, EXIT_REASON_VMWRITE,
  VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID, VMXERR_UNSUPPORTED_VMCS_COMPONENT, VMXERR_VMCLEAR_INVALID_ADDRESS,
  VMXERR_VMCLEAR_VMXON_POINTER, VMXERR_VMPTRLD_INCORRECT_VMCS_REVISION_ID, VMXERR_VMPTRLD_INVALID_ADDRESS,
  VMXERR_VMPTRLD_VMXON_POINTER, VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT, VMXERR_VMXON_IN_VMX_ROOT_OPERATION,
} from '../vmx-exit-reasons.js';
import {
  MSR_IA32_VMX_MISC_VMWRITE_SHADOW_RO_FIELDS, SECONDARY_EXEC_ENABLE_EPT, SECONDARY_EXEC_ENABLE_VPID,
  SECONDARY_EXEC_SHADOW_VMCS, VMX_EPT_EXTENT_SHIFT, VMX_EPT_INVEPT_BIT, VMX_VPID_EXTENT_INDIVIDUAL_ADDR,
  VMX_VPID_EXTENT_SINGLE_CONTEXT, VMX_VPID_EXTENT_SINGLE_NON_GLOBAL, VMX_VPID_EXTENT_SUPPORTED_MASK, VMX_VPID_INVVPID_BIT,
} from '../vmx-controls.js';
import {
  FEATURE_CONTROL_LOCKED, FEATURE_CONTROL_VMXON_ENABLED_OUTSIDE_SMX, X86_CR4_VMXE, X86_EFLAGS_AF, X86_EFLAGS_CF,
  X86_EFLAGS_OF, X86_EFLAGS_PF, X86_EFLAGS_SF, X86_EFLAGS_ZF,
} from '../x86-regs.js';
import { pageAddressValid } from './checks.js';
import { kvmMmuFreeAllRoots } from './mmu-roots.js';
import { finishEntryCount } from './op-counts.js';
import type { NestedVcpuState, VmxInstruction, VmxInstructionResult } from './shapes.js';
import { countMark, getVmcs12 } from './state.js';
import { traceVmxExit } from '../exit-trace.js';
import { hardwareExitBookkeeping, vcpuEnterL1, vcpuRunNested } from './vcpu-run.js';
import { nestedVmxRun } from './vmenter.js';
import { copyVmcs02ToVmcs12Rare, VMCS12_EXT_FIELDS } from './vmexit.js';
import { vmcs12Field, VMCS12_OFFSET_LAUNCH_STATE, VMCS12_REVISION, VMCS12_SIZE } from './vmcs12-layout.js';
import { Vmcs12 } from './vmcs12.js';

/** The basic exit reason each instruction causes (uapi/asm/vmx.h). */
export const VMX_INSTRUCTION_EXIT_REASONS: Readonly<Record<VmxInstruction, number>> = {
  vmxon: EXIT_REASON_VMON, vmxoff: EXIT_REASON_VMOFF, vmclear: EXIT_REASON_VMCLEAR, vmptrld: EXIT_REASON_VMPTRLD,
  vmptrst: EXIT_REASON_VMPTRST, vmread: EXIT_REASON_VMREAD, vmwrite: EXIT_REASON_VMWRITE, vmlaunch: EXIT_REASON_VMLAUNCH,
  vmresume: EXIT_REASON_VMRESUME, invept: EXIT_REASON_INVEPT, invvpid: EXIT_REASON_INVVPID,
};

/** The fields L1 may VMWRITE without dirtying vmcs12 (SHADOW_FIELD_RW in vmcs_shadow_fields.h): prepare_vmcs02() copies them every time. */
const SHADOW_FIELDS_RW: ReadonlySet<number> = new Set([
  F.GUEST_INTR_STATUS, F.GUEST_PML_INDEX, F.HOST_FS_SELECTOR, F.HOST_GS_SELECTOR, F.CPU_BASED_VM_EXEC_CONTROL,
  F.PIN_BASED_VM_EXEC_CONTROL, F.EXCEPTION_BITMAP, F.VM_ENTRY_EXCEPTION_ERROR_CODE, F.VM_ENTRY_INTR_INFO_FIELD,
  F.VM_ENTRY_INSTRUCTION_LEN, F.TPR_THRESHOLD, F.GUEST_INTERRUPTIBILITY_INFO, F.VMX_PREEMPTION_TIMER_VALUE, F.GUEST_RIP,
  F.GUEST_RSP, F.GUEST_CR0, F.GUEST_CR3, F.GUEST_CR4, F.GUEST_RFLAGS, F.CR0_GUEST_HOST_MASK, F.CR0_READ_SHADOW,
  F.CR4_READ_SHADOW, F.HOST_FS_BASE, F.HOST_GS_BASE,
]);

const ARITH_FLAGS = X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | X86_EFLAGS_ZF | X86_EFLAGS_SF | X86_EFLAGS_OF;

type Outcome = { readonly kind: 'done'; readonly value?: bigint; readonly hung?: boolean } | { readonly kind: 'fault'; readonly fault: 'ud' | 'gp' };

const done = (value?: bigint): Outcome => ({ kind: 'done', ...(value === undefined ? {} : { value }) });
const UD: Outcome = { kind: 'fault', fault: 'ud' };
const GP: Outcome = { kind: 'fault', fault: 'gp' };

/** nested_vmx_succeed(). */
function succeed(nv: NestedVcpuState, value?: bigint): Outcome {
  nv.vcpu.x86.rflags &= ~ARITH_FLAGS;
  return done(value);
}

/** nested_vmx_failInvalid(). */
function failInvalid(nv: NestedVcpuState): Outcome {
  nv.vcpu.x86.rflags = (nv.vcpu.x86.rflags & ~ARITH_FLAGS) | X86_EFLAGS_CF;
  return done();
}

/** nested_vmx_failValid(): ZF and the error number in the current vmcs12 (failInvalid without one). */
function failValid(nv: NestedVcpuState, error: number): Outcome {
  if (nv.currentVmptr === -1n) return failInvalid(nv);
  nv.vcpu.x86.rflags = (nv.vcpu.x86.rflags & ~ARITH_FLAGS) | X86_EFLAGS_ZF;
  getVmcs12(nv).set(F.VM_INSTRUCTION_ERROR, BigInt(error));
  return done();
}

/** nested_vmx_check_permission(): #UD outside VMX operation, #GP above CPL 0. */
function permission(nv: NestedVcpuState): Outcome | null {
  if (!nv.vmxon) return UD;
  if (nv.vcpu.x86.cpl !== 0) return GP;
  return null;
}

/** models nested_release_vmcs12(): flush the cached vmcs12 to L1's memory and free guest_mmu's roots. */
function nestedReleaseVmcs12(nv: NestedVcpuState): void {
  if (nv.currentVmptr === -1n) return;
  const v12 = getVmcs12(nv);
  copyVmcs02ToVmcs12Rare(nv, v12);
  // kvm_vcpu_write_guest_page(): the page is dirtied (and nothing happens if its slot is gone).
  if (nv.vcpu.vm.memory.isMapped(nv.currentVmptr, VMCS12_SIZE)) nv.vcpu.vm.kvmWriteGuest(nv.currentVmptr, v12.bytes);
  kvmMmuFreeAllRoots(nv.guestMmu);
  nv.currentVmptr = -1n;
  nv.cachedVmcs12 = null;
}

/** models free_nested(): leave VMX operation (the cached vmcs12 is dropped, not written back). */
export function freeNested(nv: NestedVcpuState): void {
  if (!nv.vmxon) return;
  nv.vmxon = false;
  nv.currentVmptr = -1n;
  nv.cachedVmcs12 = null;
  nv.cachedShadowVmcs12 = null;
  kvmMmuFreeAllRoots(nv.guestMmu);
}

/** models enter_vmx_operation(). */
export function enterVmxOperation(nv: NestedVcpuState): void {
  nv.vmcs02Initialized = false;
  nv.vmxon = true;
}

/** models set_current_vmptr(): vmcs02 must be rebuilt from the new vmcs12. */
export function setCurrentVmptr(nv: NestedVcpuState, vmptr: bigint, v12: Vmcs12): void {
  nv.currentVmptr = vmptr;
  nv.cachedVmcs12 = v12;
  nv.dirtyVmcs12 = true;
}

const readU32 = (nv: NestedVcpuState, gpa: bigint): number | undefined => {
  const mem = nv.vcpu.vm.memory;
  if (!mem.isMapped(gpa, 4)) return undefined;
  const b = mem.read(gpa, 4);
  return ((b[0] ?? 0) | ((b[1] ?? 0) << 8) | ((b[2] ?? 0) << 16) | ((b[3] ?? 0) << 24)) >>> 0;
};

function handleVmon(nv: NestedVcpuState, ptr: bigint): Outcome {
  const x86 = nv.vcpu.x86;
  if ((x86.cr4 & X86_CR4_VMXE) === 0n) return UD;
  if (x86.cpl !== 0) return GP;
  if (nv.vmxon) return failValid(nv, VMXERR_VMXON_IN_VMX_ROOT_OPERATION);
  const needed = FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMXON_ENABLED_OUTSIDE_SMX;
  if ((nv.featureControl & needed) !== needed) return GP;
  if (!pageAddressValid(ptr)) return failInvalid(nv);
  if (readU32(nv, ptr) !== VMCS12_REVISION) return failInvalid(nv); // kvm_read_guest() failure or a wrong revision
  nv.vmxonPtr = ptr;
  enterVmxOperation(nv);
  return succeed(nv);
}

function handleVmclear(nv: NestedVcpuState, ptr: bigint): Outcome {
  if (!pageAddressValid(ptr)) return failValid(nv, VMXERR_VMCLEAR_INVALID_ADDRESS);
  if (ptr === nv.vmxonPtr) return failValid(nv, VMXERR_VMCLEAR_VMXON_POINTER);
  if (ptr === nv.currentVmptr) nestedReleaseVmcs12(nv);
  const at = ptr + BigInt(VMCS12_OFFSET_LAUNCH_STATE);
  // kvm_vcpu_write_guest() of launch_state = 0: silently nothing if no slot backs the page.
  if (nv.vcpu.vm.memory.isMapped(at, 4)) nv.vcpu.vm.kvmWriteGuest(at, leBytes(4, 0n));
  nv.programs.delete(ptr);
  return succeed(nv);
}

function handleVmptrld(nv: NestedVcpuState, ptr: bigint): Outcome {
  if (!pageAddressValid(ptr)) return failValid(nv, VMXERR_VMPTRLD_INVALID_ADDRESS);
  if (ptr === nv.vmxonPtr) return failValid(nv, VMXERR_VMPTRLD_VMXON_POINTER);
  if (nv.currentVmptr !== ptr) {
    const mem = nv.vcpu.vm.memory;
    // kvm_vcpu_map() fails on an unbacked page; reads from it would be all ones, so: wrong revision.
    if (!mem.isMapped(ptr, VMCS12_SIZE)) return failValid(nv, VMXERR_VMPTRLD_INCORRECT_VMCS_REVISION_ID);
    const fresh = new Vmcs12(mem.read(ptr, VMCS12_SIZE));
    const shadowOffered = (nv.engine.msrs.secondaryHigh & SECONDARY_EXEC_SHADOW_VMCS) !== 0;
    if (fresh.revision !== VMCS12_REVISION || (fresh.shadowVmcs && !shadowOffered)) {
      return failValid(nv, VMXERR_VMPTRLD_INCORRECT_VMCS_REVISION_ID);
    }
    nestedReleaseVmcs12(nv);
    setCurrentVmptr(nv, ptr, fresh);
  }
  return succeed(nv);
}

function handleVmread(nv: NestedVcpuState, field: bigint): Outcome {
  if (nv.currentVmptr === -1n) return failInvalid(nv);
  const v12 = getVmcs12(nv);
  const f = vmcs12Field(nv.vcpu.x86.longMode ? field : field & 0xffff_ffffn);
  if (f === undefined) return failValid(nv, VMXERR_UNSUPPORTED_VMCS_COMPONENT);
  if (VMCS12_EXT_FIELDS.has(f.encoding)) copyVmcs02ToVmcs12Rare(nv, v12);
  const value = v12.readField(f);
  return succeed(nv, nv.vcpu.x86.longMode ? value : value & 0xffff_ffffn);
}

function handleVmwrite(nv: NestedVcpuState, field: bigint, value: bigint): Outcome {
  if (nv.currentVmptr === -1n) return failInvalid(nv);
  const v = nv.vcpu.x86.longMode ? value : value & 0xffff_ffffn;
  const enc = nv.vcpu.x86.longMode ? field : field & 0xffff_ffffn;
  // vmcs_field_readonly(): the exit-information class; writable only if VMX_MISC says "VMWRITE to any field".
  const readOnly = ((enc >> 10n) & 3n) === 1n;
  if (readOnly && (nv.engine.msrs.miscLow & MSR_IA32_VMX_MISC_VMWRITE_SHADOW_RO_FIELDS) === 0) {
    return failValid(nv, VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT);
  }
  const v12 = getVmcs12(nv);
  const shadowRw = enc <= 0x7fffn && SHADOW_FIELDS_RW.has(Number(enc));
  if (!shadowRw) copyVmcs02ToVmcs12Rare(nv, v12);
  const f = vmcs12Field(enc);
  if (f === undefined) return failValid(nv, VMXERR_UNSUPPORTED_VMCS_COMPONENT);
  // Some CPUs drop the reserved bits of AR bytes on VMWRITE; KVM does so always.
  const stored = f.encoding >= F.GUEST_ES_AR_BYTES && f.encoding <= F.GUEST_TR_AR_BYTES ? v & 0x1f0ffn : v;
  v12.writeField(f, stored);
  if (!shadowRw) nv.dirtyVmcs12 = true;
  return succeed(nv);
}

function handleVmLaunchResume(nv: NestedVcpuState, launch: boolean): Outcome {
  nv.entryMark = countMark(nv);
  nv.entryLaunch = launch;
  const vmptr = nv.currentVmptr;
  const r = nestedVmxRun(nv, launch);
  if (r.kind === 'fail-invalid' || r.kind === 'fail-valid') {
    nv.entryMark = null;
    return r.kind === 'fail-invalid' ? failInvalid(nv) : failValid(nv, r.error);
  }
  nv.stats.nestedEntries++;
  if (r.kind === 'failed-entry') {
    nv.stats.failedEntries++;
    finishEntryCount(nv, false, vmptr);
    return done();
  }
  if (r.kind === 'squashed') {
    nv.stats.squashedEntries++;
    finishEntryCount(nv, true, vmptr);
  }
  // VMLAUNCH/VMRESUME completes, from L1's point of view, only at the nested VM exit.
  return vcpuRunNested(nv) ? done() : { kind: 'done', hung: true };
}

function handleInvept(nv: NestedVcpuState, type: bigint, eptp: bigint): Outcome {
  const m = nv.engine.msrs;
  if ((m.secondaryHigh & SECONDARY_EXEC_ENABLE_EPT) === 0 || (m.eptCaps & VMX_EPT_INVEPT_BIT) === 0n) return UD;
  const denied = permission(nv);
  if (denied !== null) return denied;
  const types = Number((m.eptCaps >> VMX_EPT_EXTENT_SHIFT) & 6n);
  if (type >= 32n || (types & (1 << Number(type))) === 0) return failValid(nv, VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID);
  // 5.3/5.4 do nothing more here ("TODO: Sync the necessary shadow EPT roots here, rather than at
  // the next emulated VM-entry"): the shadow of EPT12 is synced when L1 next enters L2.
  nv.engine.ops.invept?.(nv, Number(type), eptp);
  return succeed(nv);
}

function handleInvvpid(nv: NestedVcpuState, type: bigint, vpid: bigint, gla: bigint): Outcome {
  const m = nv.engine.msrs;
  if ((m.secondaryHigh & SECONDARY_EXEC_ENABLE_VPID) === 0 || (m.vpidCaps & VMX_VPID_INVVPID_BIT) === 0) return UD;
  const denied = permission(nv);
  if (denied !== null) return denied;
  const types = (m.vpidCaps & VMX_VPID_EXTENT_SUPPORTED_MASK) >> 8;
  if (type >= 32n || (types & (1 << Number(type))) === 0 || vpid >> 16n !== 0n) return failValid(nv, VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID);
  const t = Number(type);
  const noncanonical = BigInt.asIntN(48, gla) !== BigInt.asIntN(64, gla);
  if ((t === VMX_VPID_EXTENT_INDIVIDUAL_ADDR && (vpid === 0n || noncanonical)) ||
    ((t === VMX_VPID_EXTENT_SINGLE_CONTEXT || t === VMX_VPID_EXTENT_SINGLE_NON_GLOBAL) && vpid === 0n)) {
    return failValid(nv, VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID);
  }
  return succeed(nv); // the TLB flush: the model has no TLB
}

function dispatch(nv: NestedVcpuState, insn: VmxInstruction, a: bigint, b: bigint, c: bigint): Outcome {
  if (insn === 'vmxon') return handleVmon(nv, a);
  if (insn === 'invept') return handleInvept(nv, a, b);
  if (insn === 'invvpid') return handleInvvpid(nv, a, b, c);
  const denied = permission(nv);
  if (denied !== null) return denied;
  switch (insn) {
    case 'vmxoff':
      freeNested(nv);
      nv.requests.add('EVENT'); // a latched INIT is processed now
      return succeed(nv);
    case 'vmclear':
      return handleVmclear(nv, a);
    case 'vmptrld':
      return handleVmptrld(nv, a);
    case 'vmptrst':
      return succeed(nv, nv.currentVmptr === -1n ? 0xffff_ffff_ffff_ffffn : nv.currentVmptr);
    case 'vmread':
      return handleVmread(nv, a);
    case 'vmwrite':
      return handleVmwrite(nv, a, b);
    case 'vmlaunch':
    case 'vmresume':
      return handleVmLaunchResume(nv, insn === 'vmlaunch');
  }
}

/**
 * One VMX instruction executed by L1: the exit, the emulation, and L1's re-entry. `a`, `b`, `c`
 * are the operands (a pointer, a field and value, an INVEPT/INVVPID type and descriptor).
 */
export function emulateVmxInstruction(nv: NestedVcpuState, insn: VmxInstruction, a = 0n, b = 0n, c = 0n): VmxInstructionResult {
  const reason = VMX_INSTRUCTION_EXIT_REASONS[insn];
  hardwareExitBookkeeping(nv);
  if (nv.engine.params.pml) nv.engine.ops.flushPml?.(nv); // vmx_handle_exit() flushes PML first
  nv.stats.exits[reason] = (nv.stats.exits[reason] ?? 0) + 1;
  traceVmxExit(nv.vcpu, reason);
  nv.vcpu.vm.hv.sim.elapse(nv.engine.exitCostNs);
  const r = dispatch(nv, insn, BigInt.asUintN(64, a), BigInt.asUintN(64, b), BigInt.asUintN(64, c));
  if (!nv.vcpu.x86.guestMode) vcpuEnterL1(nv);
  const x86 = nv.vcpu.x86;
  if (r.kind === 'fault') return { rflags: x86.rflags, value: 0n, fault: r.fault, hung: false };
  return { rflags: x86.rflags, value: r.value ?? 0n, fault: null, hung: r.hung === true };
}

