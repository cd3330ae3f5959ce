/**
 * Guest side: L1's VMX instructions and L2's VMCALL as a guest program issues them. Each is
 * an instruction that exits (core's `vcpu.exit`); the outcome comes back in the exit data as
 * the RFLAGS/register result would. Imports nothing from the host folder.
 */
import { readLe, type Vcpu } from '@kvmlab/hypervisor-core';
import { VMX_STATUS_FAIL_INVALID, VMX_STATUS_SUCCEED } from '../constants.js';

/** VMsucceed, VMfailInvalid, or VMfailValid with the VM-instruction error number. */
export type VmxResult =
  | { readonly status: 'succeed'; readonly value?: bigint }
  | { readonly status: 'fail-invalid' }
  | { readonly status: 'fail-valid'; readonly error: number };

function insn(vcpu: Vcpu, reason: string, extra: Readonly<Record<string, unknown>> = {}): VmxResult {
  const data = new Uint8Array(16);
  data[0] = VMX_STATUS_FAIL_INVALID;
  // Without a handler (no nested VMX in this hypervisor) the instruction fails.
  if (!vcpu.exit({ reason, data, ...extra })) return { status: 'fail-invalid' };
  if (data[0] === VMX_STATUS_SUCCEED) return { status: 'succeed', value: readLe(data, 8, 8) };
  if (data[0] === VMX_STATUS_FAIL_INVALID) return { status: 'fail-invalid' };
  return { status: 'fail-valid', error: data[1]! };
}

/** VMWRITE field, value (into the current vmcs12). */
export const vmwrite = (vcpu: Vcpu, field: number, value: bigint): VmxResult => insn(vcpu, 'vmwrite', { field, value });
/** VMREAD field: `value` of a succeeding result. */
export const vmread = (vcpu: Vcpu, field: number): VmxResult => insn(vcpu, 'vmread', { field });
/** The selftest library's vmreadz(): the value, or 0 on failure. */
export function vmreadz(vcpu: Vcpu, field: number): bigint {
  const r = vmread(vcpu, field);
  return r.status === 'succeed' ? (r.value ?? 0n) : 0n;
}
/** VMLAUNCH: on success the vCPU runs L2 (`vcpu.x86.guestMode`) until a nested VM exit. */
export const vmlaunch = (vcpu: Vcpu): VmxResult => insn(vcpu, 'vmlaunch');
export const vmresume = (vcpu: Vcpu): VmxResult => insn(vcpu, 'vmresume');
/** INVEPT (all contexts). */
export const invept = (vcpu: Vcpu): VmxResult => insn(vcpu, 'invept');

/**
 * VMCALL executed by L2: exits to L1 (reason 18) — the guest's way to leave L2. Returns
 * false if nothing took it (e.g. the vCPU was not in L2).
 */
export function l2Vmcall(vcpu: Vcpu): boolean {
  return vcpu.exit({ reason: 'vmcall' });
}
