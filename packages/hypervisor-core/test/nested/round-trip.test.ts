import { describe, expect, it } from 'vitest';
import { leBytes, readLe } from '../../src/bigint.js';
import { loadVmcs, prepareVmcs } from '../../src/x86/guest/vmx-lib.js';
import { vmInstructionError, vmlaunch, vmptrld, vmreadz, vmresume, vmwrite } from '../../src/x86/guest/vmx.js';
import * as program from '../../src/x86/guest/program.js';
import { preemptionTimeoutNs, virtualTscKhz } from '../../src/x86/nested/wake-sources.js';
import { VMCS12_REVISION } from '../../src/x86/nested/vmcs12-layout.js';
import * as F from '../../src/x86/vmcs-fields.js';
import * as C from '../../src/x86/vmx-constants.js';
import { L1_CR3, l1WithVmcs, L2_CODE, l2Code, L2_DATA, rig, VMCS_GPA } from './rig.js';

const reason = (vcpu: Parameters<typeof vmreadz>[0]) => Number(vmreadz(vcpu, F.VM_EXIT_REASON));
/** L1's exit handler for an instruction exit: step GUEST_RIP over it. */
const skip = (vcpu: Parameters<typeof vmreadz>[0]) =>
  vmwrite(vcpu, F.GUEST_RIP, vmreadz(vcpu, F.GUEST_RIP) + vmreadz(vcpu, F.VM_EXIT_INSTRUCTION_LEN));

describe('a nested round trip: VMLAUNCH → L2 → exit → L1 (nested_vmx_run … nested_vmx_vmexit)', () => {
  it('L2 machine code runs on vmcs02; VMCALL exits with reason 18, length 3, RIP on the VMCALL; L1 is back on vmcs01', () => {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'store', gpa: L2_DATA, value: 0x1234n }, { op: 'vmcall' }, { op: 'store', gpa: L2_DATA, value: 0x5678n }, { op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE });
    const nv = r.nested.state(r.vcpu);
    expect(vmlaunch(r.vcpu)).toEqual({ status: 'ok', value: 0n, hung: false });
    expect(r.vm.memory.readU64(L2_DATA)).toBe(0x1234n);
    expect(reason(r.vcpu)).toBe(C.EXIT_REASON_VMCALL);
    expect(vmreadz(r.vcpu, F.VM_EXIT_INSTRUCTION_LEN)).toBe(3n);
    expect(vmreadz(r.vcpu, F.GUEST_RIP)).toBe(L2_CODE + 10n + 10n + 3n); // MOV RDI; MOV RAX; MOV [RDI]
    expect(nv.loaded).toBe(nv.vmcs01);
    expect(r.vcpu.x86.guestMode).toBe(false);
    expect(r.vcpu.x86.cr3).toBe(L1_CR3); // HOST_CR3 loaded
    skip(r.vcpu);
    expect(vmresume(r.vcpu).status).toBe('ok');
    expect(r.vm.memory.readU64(L2_DATA)).toBe(0x5678n);
    expect(nv.stats.nestedEntries).toBe(2);
    expect(nv.stats.nestedExits[C.EXIT_REASON_VMCALL]).toBe(2);
  });

  it('a JS guest program as L2: each VMCALL exit resumes the generator where it stopped', () => {
    const r = rig();
    r.nested.loadProgram(r.vm, L2_CODE, function* () {
      for (let i = 1n; ; i++) {
        yield* program.store64(L2_DATA, i);
        const back = yield* program.load64(L2_DATA);
        yield* program.store64(L2_DATA + 8n, back * 10n);
        yield program.vmcall();
      }
    });
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE });
    vmlaunch(r.vcpu);
    for (let i = 1n; i <= 3n; i++) {
      expect(r.vm.memory.readU64(L2_DATA)).toBe(i);
      expect(r.vm.memory.readU64(L2_DATA + 8n)).toBe(i * 10n);
      skip(r.vcpu);
      vmresume(r.vcpu);
    }
  });

  it('host-state checks: HOST_CR4 without VMXE → VMfailValid 8, nothing entered', () => {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE });
    vmwrite(r.vcpu, F.HOST_CR4, r.vcpu.x86.cr4 & ~C.X86_CR4_VMXE);
    expect(vmlaunch(r.vcpu).status).toBe('fail-valid');
    expect(vmInstructionError(r.vcpu)).toBe(C.VMXERR_ENTRY_INVALID_HOST_STATE_FIELD);
    expect(r.nested.state(r.vcpu).stats.nestedEntries).toBe(0);
  });

  it('guest-state checks fail the entry itself: exit reason 33 | bit 31, qualification ENTRY_FAIL_DEFAULT, L2 never ran', () => {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'store', gpa: L2_DATA, value: 1n }, { op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE, activity: C.GUEST_ACTIVITY_WAIT_SIPI });
    expect(vmlaunch(r.vcpu).status).toBe('ok'); // VMLAUNCH completes, as a failed VM entry
    expect(reason(r.vcpu)).toBe((C.EXIT_REASON_INVALID_STATE | C.VMX_EXIT_REASONS_FAILED_VMENTRY) >>> 0);
    expect(vmreadz(r.vcpu, F.EXIT_QUALIFICATION)).toBe(BigInt(C.ENTRY_FAIL_DEFAULT));
    expect(r.vm.memory.readU64(L2_DATA)).toBe(0n);
    expect(r.nested.state(r.vcpu).stats.failedEntries).toBe(1);
    // a failed entry does not launch the VMCS: VMLAUNCH is still the right instruction
    vmwrite(r.vcpu, F.GUEST_ACTIVITY_STATE, 0n);
    expect(vmlaunch(r.vcpu).status).toBe('ok');
    expect(reason(r.vcpu)).toBe(C.EXIT_REASON_VMCALL);
  });

  it('a VM-entry MSR-load list with an MSR KVM refuses → exit 34 | bit 31, qualification = the entry’s index (1-based)', () => {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE });
    const list = 0x8_0000n;
    r.vcpu.write(list, new Uint8Array([...leBytes(4, 0x0bad_0000n), ...leBytes(4, 0n), ...leBytes(8, 1n)])); // {index, reserved, value}
    vmwrite(r.vcpu, F.VM_ENTRY_MSR_LOAD_ADDR, list);
    vmwrite(r.vcpu, F.VM_ENTRY_MSR_LOAD_COUNT, 1n);
    expect(vmlaunch(r.vcpu).status).toBe('ok');
    expect(reason(r.vcpu)).toBe((C.EXIT_REASON_MSR_LOAD_FAIL | C.VMX_EXIT_REASONS_FAILED_VMENTRY) >>> 0);
    expect(vmreadz(r.vcpu, F.EXIT_QUALIFICATION)).toBe(1n);
  });

  it('port I/O: L1’s I/O bitmap decides; a port it does not intercept goes to L0’s VMM and L2 continues', () => {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'in', port: 0x70 }, { op: 'store', gpa: L2_DATA, value: 9n }, { op: 'in', port: 0x71 }, { op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE, primary: C.CPU_BASED_USE_IO_BITMAPS });
    const bitmapA = 0x9_0000n;
    const bitmapB = 0xa_0000n;
    r.vcpu.write(bitmapA + (0x71n >> 3n), new Uint8Array([1 << (0x71 & 7)]));
    vmwrite(r.vcpu, F.IO_BITMAP_A, bitmapA);
    vmwrite(r.vcpu, F.IO_BITMAP_B, bitmapB);
    const ports: number[] = [];
    r.vm.onIo = (_v, e) => void ports.push(Number(e.port));
    expect(vmlaunch(r.vcpu).status).toBe('ok');
    expect(ports).toEqual([0x70]);
    expect(r.vm.memory.readU64(L2_DATA)).toBe(9n);
    expect(reason(r.vcpu)).toBe(C.EXIT_REASON_IO_INSTRUCTION);
    expect(vmreadz(r.vcpu, F.EXIT_QUALIFICATION)).toBe((0x71n << 16n) | 8n); // port, IN, 1 byte
    expect(vmreadz(r.vcpu, F.VM_EXIT_INSTRUCTION_LEN)).toBe(1n);
  });

  it('MOV to CR3 in L2: an exit (28) only with CR3-load exiting; otherwise L2’s CR3 changes in vmcs02 and L1 sees it at the next exit', () => {
    for (const exiting of [true, false]) {
      const r = rig();
      l2Code(r.vcpu, [{ op: 'mov-cr3', value: 0x7_7000n }, { op: 'vmcall' }]);
      l1WithVmcs(r.vcpu, { guestRip: L2_CODE, guestCr3: 0x5_5000n, primary: exiting ? C.CPU_BASED_CR3_LOAD_EXITING : 0 });
      vmlaunch(r.vcpu);
      expect(reason(r.vcpu)).toBe(exiting ? C.EXIT_REASON_CR_ACCESS : C.EXIT_REASON_VMCALL);
      expect(vmreadz(r.vcpu, F.GUEST_CR3)).toBe(exiting ? 0x5_5000n : 0x7_7000n);
    }
  });
});

describe('HLT, the squash, and wake sources (nested_vmx_run, vmx_check_nested_events, vcpu_block)', () => {
  const timerSetup = (value: bigint, extra: { exit?: number; activity?: number } = {}) => {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'hlt' }, { op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE, pin: C.PIN_BASED_VMX_PREEMPTION_TIMER, preemptionTimer: value, ...extra });
    return r;
  };

  it('entered with activity HLT and nothing to inject: squashed (no hardware entry), woken by the preemption timer → exit 52', () => {
    const r = timerSetup(1000n, { activity: C.GUEST_ACTIVITY_HLT });
    const t0 = r.hv.sim.now;
    const nv = r.nested.state(r.vcpu);
    expect(vmlaunch(r.vcpu).status).toBe('ok');
    expect(nv.stats.squashedEntries).toBe(1);
    expect(reason(r.vcpu)).toBe(C.EXIT_REASON_PREEMPTION_TIMER);
    expect(vmreadz(r.vcpu, F.GUEST_ACTIVITY_STATE)).toBe(BigInt(C.GUEST_ACTIVITY_HLT)); // L2 is still halted
    expect(vmreadz(r.vcpu, F.GUEST_RIP)).toBe(L2_CODE); // it never executed
    const timeout = preemptionTimeoutNs(1000n, virtualTscKhz(nv));
    expect(r.hv.sim.now - t0).toBeGreaterThanOrEqual(timeout);
    expect(r.hv.sim.now - t0).toBeLessThan(timeout + 20_000n); // + the instruction exits around it
  });

  it('preemption-timer rate 5: the timer counts TSC >> 5 (VMX_MISC bits 4:0)', () => {
    expect(preemptionTimeoutNs(1n, 1_000_000n)).toBe(32n); // 32 TSC ticks at 1 GHz
    expect(preemptionTimeoutNs(1000n, 2_000_000n)).toBe(16_000n);
  });

  it('a timer value of 0 exits before L2 runs one instruction', () => {
    const r = timerSetup(0n);
    vmlaunch(r.vcpu);
    expect(reason(r.vcpu)).toBe(C.EXIT_REASON_PREEMPTION_TIMER);
    expect(vmreadz(r.vcpu, F.GUEST_RIP)).toBe(L2_CODE);
  });

  it('VM_EXIT_SAVE_VMX_PREEMPTION_TIMER stores what is left; without it the field keeps L1’s value', () => {
    for (const save of [true, false]) {
      const r = rig();
      l2Code(r.vcpu, [{ op: 'work', ns: 5000 }, { op: 'vmcall' }]);
      l1WithVmcs(r.vcpu, { guestRip: L2_CODE, pin: C.PIN_BASED_VMX_PREEMPTION_TIMER, preemptionTimer: 100_000n, exit: save ? C.VM_EXIT_SAVE_VMX_PREEMPTION_TIMER : 0 });
      vmlaunch(r.vcpu);
      expect(reason(r.vcpu)).toBe(C.EXIT_REASON_VMCALL);
      const left = vmreadz(r.vcpu, F.VMX_PREEMPTION_TIMER_VALUE);
      if (save) {
        expect(left).toBeLessThan(100_000n);
        expect(left).toBeGreaterThan(90_000n);
      } else expect(left).toBe(100_000n);
    }
  });

  it('SAVE_VMX_PREEMPTION_TIMER without the timer enabled is an invalid control (7)', () => {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE, exit: C.VM_EXIT_SAVE_VMX_PREEMPTION_TIMER });
    expect(vmlaunch(r.vcpu).status).toBe('fail-valid');
    expect(vmInstructionError(r.vcpu)).toBe(7);
  });

  it('HLT with HLT exiting → exit 12 to L1; without it L0 halts L2 in place; with nothing to wake it VMLAUNCH never returns (hung)', () => {
    const a = rig();
    l2Code(a.vcpu, [{ op: 'hlt' }]);
    l1WithVmcs(a.vcpu, { guestRip: L2_CODE, primary: C.CPU_BASED_HLT_EXITING });
    vmlaunch(a.vcpu);
    expect(reason(a.vcpu)).toBe(C.EXIT_REASON_HLT);
    const b = rig();
    l2Code(b.vcpu, [{ op: 'hlt' }]);
    l1WithVmcs(b.vcpu, { guestRip: L2_CODE });
    expect(vmlaunch(b.vcpu)).toMatchObject({ status: 'ok', hung: true });
    expect(b.vcpu.x86.guestMode).toBe(true);
    expect(b.vcpu.getMpState()).toBe(C.KVM_MP_STATE_HALTED);
  });

  it('an interrupt for a halted L2: exit 1 if L1 exits on external interrupts, else it is injected into L2, which runs on', () => {
    for (const exiting of [true, false]) {
      const r = rig();
      l2Code(r.vcpu, [{ op: 'hlt' }, { op: 'store', gpa: L2_DATA, value: 1n }, { op: 'vmcall' }]);
      l1WithVmcs(r.vcpu, { guestRip: L2_CODE, pin: exiting ? C.PIN_BASED_EXT_INTR_MASK : 0, guestRflags: C.X86_EFLAGS_FIXED | C.X86_EFLAGS_IF });
      r.nested.raiseInterrupt(r.vcpu, 0x30, r.hv.sim.now + 50_000n);
      vmlaunch(r.vcpu);
      const nv = r.nested.state(r.vcpu);
      if (exiting) {
        expect(reason(r.vcpu)).toBe(C.EXIT_REASON_EXTERNAL_INTERRUPT);
        expect(r.vm.memory.readU64(L2_DATA)).toBe(0n);
        expect(nv.stats.l1Interrupts).toBe(1); // without ack-on-exit L1 takes it itself
      } else {
        expect(reason(r.vcpu)).toBe(C.EXIT_REASON_VMCALL);
        expect(r.vm.memory.readU64(L2_DATA)).toBe(1n);
        expect(nv.stats.l2Interrupts).toBe(1);
      }
    }
  });

  it('ack-on-exit: the exit carries the vector (valid, external interrupt) and L1 does not take it again', () => {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'hlt' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE, pin: C.PIN_BASED_EXT_INTR_MASK, exit: C.VM_EXIT_ACK_INTR_ON_EXIT });
    r.nested.raiseInterrupt(r.vcpu, 0x41, r.hv.sim.now + 10_000n);
    vmlaunch(r.vcpu);
    expect(reason(r.vcpu)).toBe(C.EXIT_REASON_EXTERNAL_INTERRUPT);
    expect(vmreadz(r.vcpu, F.VM_EXIT_INTR_INFO)).toBe(BigInt((0x41 | C.INTR_TYPE_EXT_INTR | C.INTR_INFO_VALID_MASK) >>> 0));
    expect(r.nested.state(r.vcpu).stats.l1Interrupts).toBe(0);
  });

  it('also fix: an external-interrupt exit with ack-on-exit but no interrupt pending carries no (invalid) vector', () => {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'in', port: 0x80 }, { op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE, pin: C.PIN_BASED_EXT_INTR_MASK, exit: C.VM_EXIT_ACK_INTR_ON_EXIT });
    // an MMU-like caller reflects exit 1 while nothing is pending in the LAPIC
    r.vm.onIo = (vcpu) => r.nested.nestedVmxVmexit(vcpu, C.EXIT_REASON_EXTERNAL_INTERRUPT, 0, 0n);
    vmlaunch(r.vcpu);
    expect(reason(r.vcpu)).toBe(C.EXIT_REASON_EXTERNAL_INTERRUPT);
    expect(vmreadz(r.vcpu, F.VM_EXIT_INTR_INFO) & BigInt(C.INTR_INFO_VALID_MASK >>> 0)).toBe(0n);
  });

  it('check_nested_events priority: preemption timer before NMI before external interrupt', () => {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'work', ns: 100_000 }, { op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE, pin: C.PIN_BASED_VMX_PREEMPTION_TIMER | C.PIN_BASED_EXT_INTR_MASK | C.PIN_BASED_NMI_EXITING, preemptionTimer: 10n });
    r.nested.raiseInterrupt(r.vcpu, 0x30, r.hv.sim.now + 1000n);
    r.nested.raiseNmi(r.vcpu);
    vmlaunch(r.vcpu);
    expect(reason(r.vcpu)).toBe(C.EXIT_REASON_PREEMPTION_TIMER);
    // the timer is disarmed now; next: the NMI, with its interruption information
    vmwrite(r.vcpu, F.PIN_BASED_VM_EXEC_CONTROL, vmreadz(r.vcpu, F.PIN_BASED_VM_EXEC_CONTROL) & ~BigInt(C.PIN_BASED_VMX_PREEMPTION_TIMER));
    r.nested.raiseNmi(r.vcpu);
    vmresume(r.vcpu);
    expect(reason(r.vcpu)).toBe(C.EXIT_REASON_EXCEPTION_NMI);
    expect(vmreadz(r.vcpu, F.VM_EXIT_INTR_INFO)).toBe(BigInt((2 | C.INTR_TYPE_NMI_INTR | C.INTR_INFO_VALID_MASK) >>> 0));
    r.nested.raiseInterrupt(r.vcpu, 0x31, r.hv.sim.now);
    vmresume(r.vcpu);
    expect(reason(r.vcpu)).toBe(C.EXIT_REASON_EXTERNAL_INTERRUPT);
  });

  it('raiseInterrupt refuses a non-external vector or a time in the past, scheduling nothing', () => {
    const r = rig();
    const nv = r.nested.state(r.vcpu);
    expect(() => r.nested.raiseInterrupt(r.vcpu, 2, r.hv.sim.now)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    r.hv.sim.elapse(100n);
    expect(() => r.nested.raiseInterrupt(r.vcpu, 0x30, 0n)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    expect(nv.scheduledIrqs).toHaveLength(0);
    expect(nv.pendingIrqs).toHaveLength(0);
  });
});

describe('several vCPUs, each with its own vmcs01, vmcs02 and vmcs12s', () => {
  it('two L1 vCPUs run their own L2s; neither’s state leaks into the other’s', () => {
    const r = rig({ vcpus: 2 });
    const [a, b] = r.vcpus as [typeof r.vcpu, typeof r.vcpu];
    l2Code(a, [{ op: 'store', gpa: L2_DATA, value: 0xaan }, { op: 'vmcall' }], L2_CODE);
    l2Code(b, [{ op: 'store', gpa: L2_DATA + 8n, value: 0xbbn }, { op: 'hlt' }], L2_CODE + 0x1000n);
    l1WithVmcs(a, { guestRip: L2_CODE, guestCr3: 0xa000n }, VMCS_GPA, 0x1_0000n);
    l1WithVmcs(b, { guestRip: L2_CODE + 0x1000n, guestCr3: 0xb000n, primary: C.CPU_BASED_HLT_EXITING }, VMCS_GPA + 0x1000n, 0x1_1000n);
    const na = r.nested.state(a);
    const nb = r.nested.state(b);
    expect(na.vmcs02).not.toBe(nb.vmcs02);
    expect(na.vmcs01).not.toBe(nb.vmcs01);
    vmlaunch(a);
    expect(reason(a)).toBe(C.EXIT_REASON_VMCALL);
    expect(nb.stats.nestedEntries).toBe(0);
    vmlaunch(b);
    expect(reason(b)).toBe(C.EXIT_REASON_HLT);
    expect(reason(a)).toBe(C.EXIT_REASON_VMCALL);
    expect([vmreadz(a, F.GUEST_CR3), vmreadz(b, F.GUEST_CR3)]).toEqual([0xa000n, 0xb000n]);
    expect([r.vm.memory.readU64(L2_DATA), r.vm.memory.readU64(L2_DATA + 8n)]).toEqual([0xaan, 0xbbn]);
    expect(vmptrld(b, VMCS_GPA + 0x1000n).status).toBe('ok');
    // a vCPU loading the other’s current VMCS sees what was last flushed, not the other’s cache
    expect(loadVmcs(b, 0xc_0000n) && prepareVmcs(b, { guestRip: L2_CODE })).toBe(true);
  });

  it('VMCS operation counts: an entry, and an exit, are counted per vCPU', () => {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'vmcall' }, { op: 'jmp-start' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE });
    const events: string[] = [];
    r.nested.state(r.vcpu).listeners.push((e) => void events.push(e.kind));
    vmlaunch(r.vcpu);
    expect(events).toEqual(['nested-entry', 'l2-run', 'hw-exit', 'nested-exit']);
    const s = r.nested.state(r.vcpu).stats;
    expect(s.entryVmwrites).toBeGreaterThan(20); // prepare_vmcs02 on a fresh vmcs02 writes most fields
    expect(s.entryCr3Vmwrites).toBeGreaterThanOrEqual(1);
    expect(s.exitVmreads).toBeGreaterThan(5);
    expect(readLe(r.vm.memory.read(VMCS_GPA, 4), 0, 4)).toBe(BigInt(VMCS12_REVISION));
  });
});
