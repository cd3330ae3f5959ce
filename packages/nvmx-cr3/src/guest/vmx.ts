/**
 * L1's VMX instructions as a guest program executes them: each traps to L0 (exit reason
 * 'vmx'); the outcome comes back in RFLAGS (CF = VMfailInvalid, ZF = VMfailValid) and, for
 * VMREAD, the destination register. Without nested VMX in the hypervisor they raise #UD.
 */
import { readLe, type Vcpu } from '@kvmlab/hypervisor-core';
import { X86_EFLAGS_CF, X86_EFLAGS_ZF } from '../constants.js';

export interface VmxOutcome {
  /** 'ok' = VMsucceed; 'fail-invalid' (CF); 'fail-valid' (ZF, error in VM_INSTRUCTION_ERROR); 'ud' = #UD. */
  readonly status: 'ok' | 'fail-invalid' | 'fail-valid' | 'ud';
  readonly value: bigint;
  /** VMLAUNCH/VMRESUME only: L2 halted with no wake source, so control never came back. */
  readonly hung: boolean;
}

function exec(vcpu: Vcpu, insn: string, operand: bigint, value = 0n): VmxOutcome {
  const data = new Uint8Array(17);
  if (!vcpu.exit({ reason: 'vmx', insn, operand, value, data, length: data.length })) return { status: 'ud', value: 0n, hung: false };
  const rflags = BigInt(data[8] ?? 0);
  const status = (rflags & X86_EFLAGS_CF) !== 0n ? 'fail-invalid' : (rflags & X86_EFLAGS_ZF) !== 0n ? 'fail-valid' : 'ok';
  return { status, value: readLe(data, 0, 8), hung: data[16] === 1 };
}

export const vmxon = (vcpu: Vcpu, region: bigint): VmxOutcome => exec(vcpu, 'vmxon', region);
export const vmclear = (vcpu: Vcpu, vmcs: bigint): VmxOutcome => exec(vcpu, 'vmclear', vmcs);
export const vmptrld = (vcpu: Vcpu, vmcs: bigint): VmxOutcome => exec(vcpu, 'vmptrld', vmcs);
export const vmread = (vcpu: Vcpu, field: number): VmxOutcome => exec(vcpu, 'vmread', BigInt(field));
export const vmwrite = (vcpu: Vcpu, field: number, value: bigint): VmxOutcome => exec(vcpu, 'vmwrite', BigInt(field), value);
export const vmlaunch = (vcpu: Vcpu): VmxOutcome => exec(vcpu, 'vmlaunch', 0n);
export const vmresume = (vcpu: Vcpu): VmxOutcome => exec(vcpu, 'vmresume', 0n);
