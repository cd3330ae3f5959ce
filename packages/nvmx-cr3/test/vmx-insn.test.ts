/** L1's VMX instructions as emulated by L0: VMfail results, #UD, entry checks. Nothing throws. */
import {
  createHypervisor, EXIT_REASON_INVALID_STATE, GUEST_ACTIVITY_STATE, GUEST_CR3, HOST_CR3, leBytes, PIN_BASED_VM_EXEC_CONTROL,
  VM_EXIT_REASON, VM_INSTRUCTION_ERROR, VMXERR_ENTRY_INVALID_CONTROL_FIELD, VMXERR_ENTRY_INVALID_HOST_STATE_FIELD,
  VMXERR_UNSUPPORTED_VMCS_COMPONENT, VMXERR_VMLAUNCH_NONCLEAR_VMCS, VMXERR_VMPTRLD_INCORRECT_VMCS_REVISION_ID,
  VMXERR_VMPTRLD_VMXON_POINTER, VMXERR_VMRESUME_NONLAUNCHED_VMCS,
} from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import {
  CPUID_1_ECX_VMX, VMX_EXIT_REASONS_FAILED_VMENTRY, VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT, vmclear, vmlaunch, vmptrld,
  vmread, vmresume, vmwrite, vmxon,
} from '../src/index.js';
import { makeNested, TIMER_1MS, WORK_VMCALL } from './harness.js';

describe('VMX instruction emulation', () => {
  it('without the plugin, VMX instructions are #UD and CPUID.1:ECX.VMX is clear', () => {
    const hv = createHypervisor({ arch: 'x86_64' });
    const vcpu = hv.createVm().createVcpu(0);
    expect(vmxon(vcpu, 0x10000n).status).toBe('ud');
    expect(Number(vcpu.cpuid(1)[2]) & CPUID_1_ECX_VMX).toBe(0);
  });

  it('with the plugin CPUID.1:ECX.VMX is set; before VMXON other VMX instructions are #UD', () => {
    const { hv, vcpu } = makeNested('merged');
    expect(Number(vcpu.cpuid(1)[2]) & CPUID_1_ECX_VMX).toBe(CPUID_1_ECX_VMX);
    const vcpu2 = hv.vms[0]!.createVcpu(1);
    expect(vmptrld(vcpu2, 0x20000n).status).toBe('ud');
  });

  it('VMREAD/VMWRITE without a current VMCS: VMfailInvalid', () => {
    const { vcpu } = makeNested('merged');
    expect(vmread(vcpu, GUEST_CR3).status).toBe('fail-invalid');
    expect(vmwrite(vcpu, GUEST_CR3, 1n).status).toBe('fail-invalid');
    expect(vmlaunch(vcpu).status).toBe('fail-invalid');
  });

  it('VMPTRLD: VMXON pointer (10), bad revision (11); VMCLEAR drops the current VMCS', () => {
    const { vcpu, l1 } = makeNested('merged');
    l1.define('A', { cr3: 0xa000n, code: WORK_VMCALL, timer: TIMER_1MS });
    expect(vmptrld(vcpu, 0x10000n).status).toBe('fail-valid');
    expect(vmread(vcpu, VM_INSTRUCTION_ERROR).value).toBe(BigInt(VMXERR_VMPTRLD_VMXON_POINTER));
    vcpu.write(0x30000n, leBytes(4, 0x1234n));
    expect(vmptrld(vcpu, 0x30000n).status).toBe('fail-valid');
    expect(vmread(vcpu, VM_INSTRUCTION_ERROR).value).toBe(BigInt(VMXERR_VMPTRLD_INCORRECT_VMCS_REVISION_ID));
    expect(vmptrld(vcpu, 0x20001n).status).toBe('fail-valid'); // unaligned
    expect(vmclear(vcpu, l1.vmcs.get('A')!).status).toBe('ok');
    expect(vmread(vcpu, GUEST_CR3).status).toBe('fail-invalid');
  });

  it('VMWRITE to a read-only field (13) or an unknown one (12)', () => {
    const { vcpu, l1 } = makeNested('merged');
    l1.define('A', { cr3: 0xa000n, code: WORK_VMCALL });
    expect(vmwrite(vcpu, VM_EXIT_REASON, 1n).status).toBe('fail-valid');
    expect(vmread(vcpu, VM_INSTRUCTION_ERROR).value).toBe(BigInt(VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT));
    expect(vmwrite(vcpu, 0x6ffe, 1n).status).toBe('fail-valid');
    expect(vmread(vcpu, VM_INSTRUCTION_ERROR).value).toBe(BigInt(VMXERR_UNSUPPORTED_VMCS_COMPONENT));
  });

  it('launch state: VMRESUME before VMLAUNCH (5), VMLAUNCH twice (4), VMCLEAR resets it', () => {
    const { vcpu, l1 } = makeNested('merged');
    l1.define('A', { cr3: 0xa000n, code: WORK_VMCALL, timer: TIMER_1MS });
    expect(vmresume(vcpu).status).toBe('fail-valid');
    expect(vmread(vcpu, VM_INSTRUCTION_ERROR).value).toBe(BigInt(VMXERR_VMRESUME_NONLAUNCHED_VMCS));
    expect(vmlaunch(vcpu).status).toBe('ok');
    expect(vmlaunch(vcpu).status).toBe('fail-valid');
    expect(vmread(vcpu, VM_INSTRUCTION_ERROR).value).toBe(BigInt(VMXERR_VMLAUNCH_NONCLEAR_VMCS));
    const a = l1.vmcs.get('A')!;
    vmclear(vcpu, a);
    vmptrld(vcpu, a);
    expect(vmlaunch(vcpu).status).toBe('ok');
  });

  it('bad controls → VMfailValid(7); bad HOST_CR3 → VMfailValid(8); state untouched', () => {
    const { vcpu, l1, nv } = makeNested('merged');
    l1.define('A', { cr3: 0xa000n, code: WORK_VMCALL, timer: TIMER_1MS });
    vmwrite(vcpu, PIN_BASED_VM_EXEC_CONTROL, 0x80n);
    expect(vmlaunch(vcpu).status).toBe('fail-valid');
    expect(vmread(vcpu, VM_INSTRUCTION_ERROR).value).toBe(BigInt(VMXERR_ENTRY_INVALID_CONTROL_FIELD));
    vmwrite(vcpu, PIN_BASED_VM_EXEC_CONTROL, 0x41n);
    vmwrite(vcpu, HOST_CR3, 1n << 60n);
    expect(vmlaunch(vcpu).status).toBe('fail-valid');
    expect(vmread(vcpu, VM_INSTRUCTION_ERROR).value).toBe(BigInt(VMXERR_ENTRY_INVALID_HOST_STATE_FIELD));
    expect(nv.guestMode).toBe(false);
    expect(nv.loaded).toBe(nv.vmcs01);
    expect(nv.stats.nestedEntries).toBe(0);
  });

  it('activity state 2 (shutdown) → failed-entry exit 33 | 1<<31 to L1', () => {
    const { vcpu, l1, nv } = makeNested('merged');
    l1.define('A', { cr3: 0xa000n, code: WORK_VMCALL, timer: TIMER_1MS, activity: 2 });
    expect(vmlaunch(vcpu).status).toBe('ok');
    expect(vmread(vcpu, VM_EXIT_REASON).value).toBe(BigInt((EXIT_REASON_INVALID_STATE | VMX_EXIT_REASONS_FAILED_VMENTRY) >>> 0));
    expect(nv.guestMode).toBe(false);
    expect(vmread(vcpu, GUEST_ACTIVITY_STATE).value).toBe(2n);
  });

  it('a halted L2 with nothing to wake it reports hung instead of blocking forever', () => {
    const { l1 } = makeNested('merged');
    l1.define('A', { cr3: 0xa000n, code: [{ op: 'hlt' }] });
    const r = l1.enter('A');
    expect(r.hung).toBe(true);
  });

  it('malformed guest operands never throw', () => {
    const { vcpu } = makeNested('merged');
    const data = new Uint8Array(17);
    expect(vcpu.exit({ reason: 'vmx', insn: 'bogus', operand: 0n, data })).toBe(false);
    expect(vcpu.exit({ reason: 'vmx', insn: 'vmread', operand: 5, data })).toBe(false);
    expect(vcpu.exit({ reason: 'vmx', insn: 'vmread', operand: 0n, data: new Uint8Array(2) })).toBe(false);
  });
});
