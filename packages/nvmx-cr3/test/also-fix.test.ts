/**
 * The "also fix" items of issue 13 that meet this package, each a named test, through the
 * nvmx-cr3 plugin on hypervisor-core's engine: what the earlier private nested VMX of this
 * package got wrong against v5.3/v5.4. (Engine-only details have their own tests in core.)
 */
import {
  CPU_BASED_INTR_WINDOW_EXITING, CPU_BASED_USE_TSC_OFFSETING, CPU_BASED_VIRTUAL_INTR_PENDING, EXIT_REASON_EXTERNAL_INTERRUPT,
  EXIT_REASON_INTERRUPT_WINDOW, EXIT_REASON_PENDING_INTERRUPT, GUEST_CR3, INTR_INFO_VALID_MASK, INTR_TYPE_EXT_INTR,
  MSR_IA32_VMX_PROCBASED_CTLS2, PIN_BASED_VM_EXEC_CONTROL, SECONDARY_EXEC_ENABLE_EPT, SECONDARY_EXEC_ENABLE_PML,
  SECONDARY_EXEC_UNRESTRICTED_GUEST, vmclear, vmInstructionError, vmptrld, vmptrst, VM_EXIT_INTR_INFO, VM_EXIT_REASON,
  VMXERR_ENTRY_INVALID_CONTROL_FIELD, VMXERR_VMPTRLD_INCORRECT_VMCS_REVISION_ID,
} from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import * as pkg from '../src/index.js';
import { NVMX_VARIANTS } from '../src/host/guest-cr3.js';
import { makeNested, TIMER_1MS, vmcsGpa, WORK_VMCALL } from './harness.js';

const UNBACKED = 64n << 20n; // the slot ends at 16 MiB

describe.each(NVMX_VARIANTS)('also fix (%s)', (variant) => {
  it('VM-entry controls: the default1 bits L1 read from the MSRs enter; clearing one fails with VMfailValid 7', () => {
    const n = makeNested(variant);
    n.l1.define('A', { cr3: 0xa000n, code: WORK_VMCALL });
    expect(n.l1.enter('A').status).toBe('ok');
    n.l1.setBits('A', PIN_BASED_VM_EXEC_CONTROL, 0x16, false); // PIN_BASED_ALWAYSON_WITHOUT_TRUE_MSR
    const r = n.l1.enter('A');
    expect(r.status).toBe('fail-valid');
    expect(vmInstructionError(n.vcpu)).toBe(VMXERR_ENTRY_INVALID_CONTROL_FIELD);
  });

  it('enableEpt: false → L1 is offered no EPT, unrestricted guest or PML, and the CR3 bug cannot happen', () => {
    const n = makeNested(variant, { enableEpt: false });
    const sec = Number(n.vcpu.rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2)! >> 32n);
    expect(sec & (SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_UNRESTRICTED_GUEST | SECONDARY_EXEC_ENABLE_PML)).toBe(0);
    expect(n.l1.eptOffered).toBe(false);
    n.l1.define('A', { cr3: 0xa000n, code: WORK_VMCALL });
    n.l1.define('B', { cr3: 0xb000n, code: WORK_VMCALL, activity: 1, timer: TIMER_1MS });
    n.l1.enter('A');
    n.l1.enter('B'); // squashed, woken by the timer
    expect(n.l1.read('B', GUEST_CR3)).toBe(0xb000n); // shadow paging: GUEST_CR3 is not read back from vmcs02
  });

  it('VMPTRLD of an aligned address no memslot backs fails with error 11 (not 9); VMCLEAR of it succeeds', () => {
    const n = makeNested(variant);
    n.l1.define('A', { cr3: 0xa000n, code: WORK_VMCALL });
    expect(vmptrld(n.vcpu, UNBACKED).status).toBe('fail-valid');
    expect(vmInstructionError(n.vcpu)).toBe(VMXERR_VMPTRLD_INCORRECT_VMCS_REVISION_ID);
    expect(vmclear(n.vcpu, UNBACKED).status).toBe('ok');
    expect(vmptrst(n.vcpu).value).toBe(vmcsGpa(0));
  });

  it('ack-on-exit (Muen’s exit controls): an external-interrupt exit carries the acknowledged vector, valid', () => {
    const n = makeNested(variant);
    n.l1.define('B', { cr3: 0xb000n, code: WORK_VMCALL, activity: 1 }); // halted, no timer: only the IRQ wakes it
    n.svc.raiseInterrupt(n.vcpu, 0x41, n.hv.sim.now + 20_000n);
    expect(n.l1.enter('B').status).toBe('ok');
    expect(Number(n.l1.read('B', VM_EXIT_REASON))).toBe(EXIT_REASON_EXTERNAL_INTERRUPT);
    expect(n.l1.read('B', VM_EXIT_INTR_INFO)).toBe(BigInt((0x41 | INTR_TYPE_EXT_INTR | INTR_INFO_VALID_MASK) >>> 0));
    expect(n.nv.stats.l1Interrupts).toBe(0); // acknowledged on exit, not delivered to L1 again
  });
});

describe('also fix: the 2019 constant names, with today’s as aliases', () => {
  it('CPU_BASED_VIRTUAL_INTR_PENDING / INTR_WINDOW_EXITING, EXIT_REASON_PENDING_INTERRUPT / INTERRUPT_WINDOW, USE_TSC_OFFSETING', () => {
    expect(CPU_BASED_VIRTUAL_INTR_PENDING).toBe(0x4);
    expect(CPU_BASED_INTR_WINDOW_EXITING).toBe(CPU_BASED_VIRTUAL_INTR_PENDING);
    expect(EXIT_REASON_PENDING_INTERRUPT).toBe(7);
    expect(EXIT_REASON_INTERRUPT_WINDOW).toBe(EXIT_REASON_PENDING_INTERRUPT);
    expect(CPU_BASED_USE_TSC_OFFSETING).toBe(0x8);
    // the package's own constants are core's, re-exported under the names it always had
    expect(pkg.VMCS12_REVISION).toBe(0x11e57ed0);
    expect(pkg.VM_EXIT_ACK_INTR_ON_EXIT).toBe(0x8000);
  });
});
