/**
 * L1's VMX instructions as L0 emulates them, through nvmx-cr3's plugin (hypervisor-core's engine
 * does the emulation; its own tests cover it exhaustively): the integration a Muen-like L1 relies
 * on — VMfail results with their error numbers, #UD, the entry checks, failed entries, and the
 * host boundary that rejects malformed calls without touching state.
 */
import {
  createHypervisor, EXIT_REASON_INVALID_STATE, GUEST_ACTIVITY_STATE, GUEST_CR3, HOST_CR3, isKvmError, leBytes,
  PIN_BASED_VM_EXEC_CONTROL, VM_EXIT_REASON, VM_INSTRUCTION_ERROR, VMXERR_ENTRY_INVALID_CONTROL_FIELD,
  VMXERR_ENTRY_INVALID_HOST_STATE_FIELD, VMXERR_UNSUPPORTED_VMCS_COMPONENT, VMXERR_VMLAUNCH_NONCLEAR_VMCS,
  VMXERR_VMPTRLD_INCORRECT_VMCS_REVISION_ID, VMXERR_VMPTRLD_INVALID_ADDRESS, VMXERR_VMPTRLD_VMXON_POINTER,
  VMXERR_VMRESUME_NONLAUNCHED_VMCS, X86_CR4_VMXE,
} from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import {
  CPUID_1_ECX_VMX, VMCS12_REVISION, VMX_EXIT_REASONS_FAILED_VMENTRY, VMXERR_VMXON_IN_VMX_ROOT_OPERATION, vmclear, vmlaunch,
  vmptrld, vmread, vmresume, vmwrite, vmxon,
} from '../src/index.js';
import { makeNested, TIMER_1MS, VMXON_GPA, WORK_VMCALL } from './harness.js';

const error = (vcpu: Parameters<typeof vmread>[0]): bigint => vmread(vcpu, VM_INSTRUCTION_ERROR).value;

describe('VMX instruction emulation (through nvmx-cr3)', () => {
  it('without the plugin, VMX instructions are #UD, CR4.VMXE cannot be set, CPUID.1:ECX.VMX is clear', () => {
    const hv = createHypervisor({ arch: 'x86_64' });
    const vcpu = hv.createVm().createVcpu(0);
    expect(vmxon(vcpu, 0x10000n).status).toBe('ud');
    expect(vcpu.movToCr(4, vcpu.x86.cr4 | X86_CR4_VMXE)).toBe(false);
    expect(Number(vcpu.cpuid(1)[2]) & CPUID_1_ECX_VMX).toBe(0);
  });

  it('with the plugin CPUID.1:ECX.VMX is set; outside VMX operation VMX instructions are #UD', () => {
    const { hv, vcpu } = makeNested('merged');
    expect(Number(vcpu.cpuid(1)[2]) & CPUID_1_ECX_VMX).toBe(CPUID_1_ECX_VMX);
    const vcpu2 = hv.vms[0]!.createVcpu(1);
    expect(vmptrld(vcpu2, 0x20000n).status).toBe('ud');
    expect(vmxon(vcpu2, 0x30000n).status).toBe('ud'); // CR4.VMXE is clear
    // in VMX root operation: VMXON again is VMfailValid(15) only with a current VMCS, else VMfailInvalid
    expect(vmxon(vcpu, VMXON_GPA).status).toBe('fail-invalid');
  });

  it('VMREAD/VMWRITE/VMLAUNCH without a current VMCS: VMfailInvalid', () => {
    const { vcpu } = makeNested('merged');
    expect(vmread(vcpu, GUEST_CR3).status).toBe('fail-invalid');
    expect(vmwrite(vcpu, GUEST_CR3, 1n).status).toBe('fail-invalid');
    expect(vmlaunch(vcpu).status).toBe('fail-invalid');
  });

  it('VMPTRLD: unaligned (9), VMXON pointer (10), bad revision (11); VMXON in root (15); VMCLEAR drops the current VMCS', () => {
    const { vcpu, l1 } = makeNested('merged');
    l1.define('A', { cr3: 0xa000n, code: WORK_VMCALL, timer: TIMER_1MS });
    expect(vmptrld(vcpu, 0x20001n).status).toBe('fail-valid');
    expect(error(vcpu)).toBe(BigInt(VMXERR_VMPTRLD_INVALID_ADDRESS));
    expect(vmptrld(vcpu, VMXON_GPA).status).toBe('fail-valid');
    expect(error(vcpu)).toBe(BigInt(VMXERR_VMPTRLD_VMXON_POINTER));
    vcpu.write(0x30000n, leBytes(4, 0x1234n));
    expect(vmptrld(vcpu, 0x30000n).status).toBe('fail-valid');
    expect(error(vcpu)).toBe(BigInt(VMXERR_VMPTRLD_INCORRECT_VMCS_REVISION_ID));
    expect(vmxon(vcpu, VMXON_GPA).status).toBe('fail-valid');
    expect(error(vcpu)).toBe(BigInt(VMXERR_VMXON_IN_VMX_ROOT_OPERATION));
    // A still is the current VMCS after the failed VMPTRLDs
    expect(vmread(vcpu, GUEST_CR3).value).toBe(0xa000n);
    expect(vmclear(vcpu, l1.vmcs.get('A')!).status).toBe('ok');
    expect(vmread(vcpu, GUEST_CR3).status).toBe('fail-invalid');
    // VMCLEAR flushed vmcs12 into L1's memory, in KVM's layout (revision first)
    expect(vcpu.read(l1.vmcs.get('A')!, 4)).toEqual(leBytes(4, BigInt(VMCS12_REVISION)));
  });

  it('VMWRITE to a read-only field succeeds (KVM offers "VMWRITE to any field"); an unknown one is VMfailValid(12)', () => {
    const { vcpu, l1 } = makeNested('merged');
    l1.define('A', { cr3: 0xa000n, code: WORK_VMCALL });
    expect(vmwrite(vcpu, VM_EXIT_REASON, 1n).status).toBe('ok');
    expect(vmread(vcpu, VM_EXIT_REASON).value).toBe(1n);
    expect(vmwrite(vcpu, 0x6ffe, 1n).status).toBe('fail-valid');
    expect(error(vcpu)).toBe(BigInt(VMXERR_UNSUPPORTED_VMCS_COMPONENT));
    expect(vmread(vcpu, 0x6ffe).status).toBe('fail-valid');
  });

  it('launch state: VMRESUME before VMLAUNCH (5), VMLAUNCH twice (4), VMCLEAR resets it', () => {
    const { vcpu, l1, nv } = makeNested('merged');
    l1.define('A', { cr3: 0xa000n, code: WORK_VMCALL, timer: TIMER_1MS });
    expect(vmresume(vcpu).status).toBe('fail-valid');
    expect(error(vcpu)).toBe(BigInt(VMXERR_VMRESUME_NONLAUNCHED_VMCS));
    expect(nv.stats.nestedEntries).toBe(0);
    expect(vmlaunch(vcpu).status).toBe('ok');
    expect(nv.stats.nestedEntries).toBe(1);
    expect(vmlaunch(vcpu).status).toBe('fail-valid');
    expect(error(vcpu)).toBe(BigInt(VMXERR_VMLAUNCH_NONCLEAR_VMCS));
    expect(vmresume(vcpu).status).toBe('ok');
    const a = l1.vmcs.get('A')!;
    expect(vmclear(vcpu, a).status).toBe('ok');
    expect(vmptrld(vcpu, a).status).toBe('ok');
    expect(vmresume(vcpu).status).toBe('fail-valid');
    expect(vmlaunch(vcpu).status).toBe('ok');
    expect(nv.stats.nestedEntries).toBe(3);
  });

  it('bad controls → VMfailValid(7); bad HOST_CR3 → VMfailValid(8); no entry happens', () => {
    const { vcpu, l1, nv } = makeNested('merged');
    l1.define('A', { cr3: 0xa000n, code: WORK_VMCALL, timer: TIMER_1MS });
    const pin = vmread(vcpu, PIN_BASED_VM_EXEC_CONTROL).value;
    vmwrite(vcpu, PIN_BASED_VM_EXEC_CONTROL, pin | 0x80n); // bit 7 is not allowed-1
    expect(vmlaunch(vcpu).status).toBe('fail-valid');
    expect(error(vcpu)).toBe(BigInt(VMXERR_ENTRY_INVALID_CONTROL_FIELD));
    vmwrite(vcpu, PIN_BASED_VM_EXEC_CONTROL, pin);
    vmwrite(vcpu, HOST_CR3, 1n << 60n); // above MAXPHYADDR
    expect(vmlaunch(vcpu).status).toBe('fail-valid');
    expect(error(vcpu)).toBe(BigInt(VMXERR_ENTRY_INVALID_HOST_STATE_FIELD));
    expect(vcpu.x86.guestMode).toBe(false);
    expect(nv.loaded).toBe(nv.vmcs01);
    expect(nv.stats.nestedEntries).toBe(0);
    expect(nv.vmcs02.peek(GUEST_CR3)).toBe(0n); // vmcs02 never prepared
    // still not launched: fixing HOST_CR3 makes VMLAUNCH (not VMRESUME) work
    vmwrite(vcpu, HOST_CR3, 0x1000000n);
    expect(vmlaunch(vcpu).status).toBe('ok');
  });

  it('activity state 2 (shutdown) → failed-entry exit 33 | 1<<31 to L1, L2 never entered', () => {
    const { vcpu, l1, nv, events } = makeNested('merged');
    l1.define('A', { cr3: 0xa000n, code: WORK_VMCALL, timer: TIMER_1MS, activity: 2 });
    expect(vmlaunch(vcpu).status).toBe('ok');
    expect(vmread(vcpu, VM_EXIT_REASON).value).toBe(BigInt((EXIT_REASON_INVALID_STATE | VMX_EXIT_REASONS_FAILED_VMENTRY) >>> 0));
    expect(vcpu.x86.guestMode).toBe(false);
    expect(nv.stats.failedEntries).toBe(1);
    expect(events.some((e) => e.kind === 'l2-run')).toBe(false);
    expect(vmread(vcpu, GUEST_ACTIVITY_STATE).value).toBe(2n);
    // a failed entry does not launch the VMCS (prepare_vmcs12 skips launch_state): VMRESUME fails
    expect(vmresume(vcpu).status).toBe('fail-valid');
    expect(error(vcpu)).toBe(BigInt(VMXERR_VMRESUME_NONLAUNCHED_VMCS));
  });

  it('a halted L2 with nothing to wake it reports hung instead of blocking forever', () => {
    const { l1, vcpu } = makeNested('merged');
    l1.define('A', { cr3: 0xa000n, code: [{ op: 'hlt' }] });
    expect(l1.enter('A').hung).toBe(true);
    expect(vcpu.x86.guestMode).toBe(true);
    // and one that is woken is not
    const t = makeNested('merged');
    t.l1.define('A', { cr3: 0xa000n, code: [{ op: 'hlt' }], timer: TIMER_1MS });
    expect(t.l1.enter('A').hung).toBe(false);
  });

  it('malformed calls at the VMX boundary are KvmError EINVAL, a call while L2 runs EBUSY; nothing changes', () => {
    const { vcpu, l1, nv } = makeNested('merged');
    l1.define('A', { cr3: 0xa000n, code: [{ op: 'hlt' }] });
    const errno = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return isKvmError(e) ? e.errno : `not a KvmError: ${String(e)}`;
      }
      return undefined;
    };
    expect(errno(() => vcpu.vmx('bogus' as never))).toBe('EINVAL');
    expect(errno(() => vcpu.vmx('vmread', 5 as never))).toBe('EINVAL');
    expect(vmread(vcpu, GUEST_CR3).value).toBe(0xa000n); // current VMCS kept
    expect(l1.enter('A').hung).toBe(true);
    const before = nv.vmcs02.peek(GUEST_CR3);
    expect(errno(() => vmread(vcpu, GUEST_CR3))).toBe('EBUSY');
    expect(vcpu.x86.guestMode).toBe(true);
    expect(nv.vmcs02.peek(GUEST_CR3)).toBe(before);
  });
});
