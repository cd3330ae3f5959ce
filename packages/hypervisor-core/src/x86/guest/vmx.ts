/**
 * L1's VMX instructions as guest code executes them — the one guest-side module for them in the
 * tree. Each traps to L0 (the vCPU's `vmx()` boundary); the outcome comes back as a real CPU
 * would leave it: RFLAGS (CF = VMfailInvalid, ZF = VMfailValid), a destination value, or a #UD /
 * #GP. Without nested VMX in the hypervisor they raise #UD. Imports nothing from the host side.
 */
import type { Vcpu } from '../../vcpu/vcpu.js';
import { VM_INSTRUCTION_ERROR } from '../vmcs-fields.js';
import { VMX_EPT_EXTENT_GLOBAL, VMX_VPID_EXTENT_ALL_CONTEXT } from '../vmx-controls.js';
import { X86_EFLAGS_CF, X86_EFLAGS_ZF } from '../x86-regs.js';

/** 'ok' = VMsucceed; 'fail-invalid' (CF); 'fail-valid' (ZF; the number is in VM_INSTRUCTION_ERROR); 'ud' / 'gp' = the exception. */
export type VmxStatus = 'ok' | 'fail-invalid' | 'fail-valid' | 'ud' | 'gp';

export interface VmxOutcome {
  readonly status: VmxStatus;
  /** The destination of VMREAD and VMPTRST (0 otherwise). */
  readonly value: bigint;
  /** VMLAUNCH/VMRESUME only: L2 halted with nothing that could wake it, so control never came back. */
  readonly hung: boolean;
}

type Insn = Parameters<Vcpu['vmx']>[0];

function exec(vcpu: Vcpu, insn: Insn, ...operands: bigint[]): VmxOutcome {
  const r = vcpu.vmx(insn, ...operands);
  if (r.fault !== null) return { status: r.fault, value: 0n, hung: false };
  const status: VmxStatus = (r.rflags & X86_EFLAGS_CF) !== 0n ? 'fail-invalid' : (r.rflags & X86_EFLAGS_ZF) !== 0n ? 'fail-valid' : 'ok';
  return { status, value: r.value, hung: r.hung };
}

export const vmxon = (vcpu: Vcpu, region: bigint): VmxOutcome => exec(vcpu, 'vmxon', region);
export const vmxoff = (vcpu: Vcpu): VmxOutcome => exec(vcpu, 'vmxoff');
export const vmclear = (vcpu: Vcpu, vmcs: bigint): VmxOutcome => exec(vcpu, 'vmclear', vmcs);
export const vmptrld = (vcpu: Vcpu, vmcs: bigint): VmxOutcome => exec(vcpu, 'vmptrld', vmcs);
export const vmptrst = (vcpu: Vcpu): VmxOutcome => exec(vcpu, 'vmptrst');
export const vmread = (vcpu: Vcpu, field: number | bigint): VmxOutcome => exec(vcpu, 'vmread', BigInt(field));
export const vmwrite = (vcpu: Vcpu, field: number | bigint, value: bigint): VmxOutcome => exec(vcpu, 'vmwrite', BigInt(field), value);
export const vmlaunch = (vcpu: Vcpu): VmxOutcome => exec(vcpu, 'vmlaunch');
export const vmresume = (vcpu: Vcpu): VmxOutcome => exec(vcpu, 'vmresume');
/** INVEPT type, {eptp, 0} (default: all-context). */
export const invept = (vcpu: Vcpu, type: number = VMX_EPT_EXTENT_GLOBAL, eptp = 0n): VmxOutcome => exec(vcpu, 'invept', BigInt(type), eptp);
/** INVVPID type, {vpid, linear address} (default: all-context). */
export const invvpid = (vcpu: Vcpu, type: number = VMX_VPID_EXTENT_ALL_CONTEXT, vpid = 0n, gla = 0n): VmxOutcome =>
  exec(vcpu, 'invvpid', BigInt(type), vpid, gla);

/** The selftest library's vmreadz(): the value, or 0 when VMREAD fails. */
export function vmreadz(vcpu: Vcpu, field: number | bigint): bigint {
  const r = vmread(vcpu, field);
  return r.status === 'ok' ? r.value : 0n;
}

/** After a VMfailValid: the VM-instruction error number, read from the current VMCS. */
export const vmInstructionError = (vcpu: Vcpu): number => Number(vmreadz(vcpu, VM_INSTRUCTION_ERROR));
