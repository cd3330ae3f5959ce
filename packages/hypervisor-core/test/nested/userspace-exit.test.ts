/**
 * A signal to the vCPU thread while L1 runs L2 (KVM_EXIT_INTR): requestUserspaceExit kicks the
 * vCPU, vcpu_run() sees signal_pending() in guest mode (the top of its loop, or a vcpu_block the
 * signal ends), returns to userspace where the VMM's handler runs, and the next KVM_RUN carries on.
 */
import { describe, expect, it } from 'vitest';
import { readLe } from '../../src/bigint.js';
import { assemble } from '../../src/x86/guest/assembler.js';
import type { Vcpu } from '../../src/vcpu/vcpu.js';
import { vmlaunch, vmreadz, vmresume, vmwrite } from '../../src/x86/guest/vmx.js';
import * as K from '../../src/x86/nested/kvm-constants.js';
import * as F from '../../src/x86/vmcs-fields.js';
import * as C from '../../src/x86/vmx-constants.js';
import { errnoOf } from '../helpers.js';
import { l1WithVmcs, L2_CODE, l2Code, L2_DATA, rig, type Rig } from './rig.js';

const reason = (vcpu: Vcpu) => Number(vmreadz(vcpu, F.VM_EXIT_REASON));
const skip = (vcpu: Vcpu) => vmwrite(vcpu, F.GUEST_RIP, vmreadz(vcpu, F.GUEST_RIP) + vmreadz(vcpu, F.VM_EXIT_INSTRUCTION_LEN));
const nestedFlags = (vcpu: Vcpu) => Number(readLe(vcpu.getNestedState(), 0, 2));

const WORK_NS = 100_000;
/** The WORK instruction's length (a long NOP with a 32-bit displacement). */
const WORK_LEN = BigInt(assemble([{ op: 'work', ns: 1 }]).length);
/** L2: a long piece of work, a store, VMCALL (18 to L1). */
function longWorkL2(signalAfterNs?: bigint, handler?: (r: Rig) => void) {
  const r = rig();
  l2Code(r.vcpu, [{ op: 'work', ns: WORK_NS }, { op: 'store', gpa: L2_DATA, value: 0x77n }, { op: 'vmcall' }]);
  l1WithVmcs(r.vcpu, { guestRip: L2_CODE });
  const t0 = r.hv.sim.now;
  let requestedAt: bigint | null = null;
  if (signalAfterNs !== undefined) {
    r.hv.sim.schedule(t0 + signalAfterNs, () => {
      requestedAt = r.hv.sim.now;
      r.nested.requestUserspaceExit(r.vcpu, () => handler?.(r));
    }, 'VMM signal');
  }
  return { r, t0, requestedAt: () => requestedAt };
}

describe('a signal while L2 runs', () => {
  it('the handler runs in guest mode (GET_NESTED_STATE says so), then L2 carries on and VMLAUNCH ends with L2’s own VMCALL', () => {
    let seen: {
      guestMode: boolean; flags: number; data: bigint; pending: boolean; now: bigint; mp: number; exits: number; rip: bigint;
    } | undefined;
    const { r, t0, requestedAt } = longWorkL2(50_000n, (rr) => {
      const nv = rr.nested.state(rr.vcpu);
      const saved = rr.vcpu.getNestedState();
      seen = {
        guestMode: rr.vcpu.x86.guestMode,
        flags: Number(readLe(saved, 0, 2)),
        data: rr.vm.memory.readU64(L2_DATA),
        pending: rr.nested.signalPending(rr.vcpu),
        now: rr.hv.sim.now,
        mp: rr.vcpu.getMpState(),
        exits: nv.stats.userspaceExits,
        rip: readLe(saved, K.KVM_NESTED_STATE_HEADER_SIZE + 544, 8), // vmcs12 GUEST_RIP, synced from vmcs02
      };
    });
    const nv = r.nested.state(r.vcpu);
    expect(vmlaunch(r.vcpu)).toEqual({ status: 'ok', value: 0n, hung: false });
    expect(requestedAt()).toBe(t0 + 50_000n); // during the WORK
    expect(seen).toBeDefined();
    expect(seen!.guestMode).toBe(true);
    expect(seen!.flags).toBe(K.KVM_STATE_NESTED_GUEST_MODE); // L2 has run: no RUN_PENDING
    expect(seen!.pending).toBe(false); // delivered: no longer pending
    expect(seen!.exits).toBe(1); // counted before the handler runs
    expect(seen!.mp).toBe(C.KVM_MP_STATE_RUNNABLE);
    // the kick lands at the next instruction boundary: after the work, before the store
    expect(seen!.data).toBe(0n);
    expect(seen!.now - t0).toBeGreaterThanOrEqual(BigInt(WORK_NS));
    expect(seen!.rip).toBe(L2_CODE + WORK_LEN); // RIP is on the store
    // and then as if nothing had happened
    expect(r.vcpu.x86.guestMode).toBe(false);
    expect(reason(r.vcpu)).toBe(C.EXIT_REASON_VMCALL);
    expect(r.vm.memory.readU64(L2_DATA)).toBe(0x77n);
    expect(nv.stats.userspaceExits).toBe(1);
    expect(nv.stats.nestedExits).toEqual({ [C.EXIT_REASON_VMCALL]: 1 });
    expect(nv.stats.l0Exits[C.EXIT_REASON_EXTERNAL_INTERRUPT]).toBe(1); // the kick's exit, L0's own
    expect(r.nested.signalPending(r.vcpu)).toBe(false);
  });

  it('the same run without the signal ends the same way (RIP, reason, memory), with no userspace exit and no kick exit', () => {
    const a = longWorkL2(50_000n);
    const b = longWorkL2();
    vmlaunch(a.r.vcpu);
    vmlaunch(b.r.vcpu);
    for (const field of [F.GUEST_RIP, F.VM_EXIT_REASON, F.VM_EXIT_INSTRUCTION_LEN, F.GUEST_CR3]) {
      expect(vmreadz(a.r.vcpu, field)).toBe(vmreadz(b.r.vcpu, field));
    }
    expect(a.r.vm.memory.readU64(L2_DATA)).toBe(b.r.vm.memory.readU64(L2_DATA));
    const sa = a.r.nested.state(a.r.vcpu).stats;
    const sb = b.r.nested.state(b.r.vcpu).stats;
    expect([sa.userspaceExits, sb.userspaceExits]).toEqual([1, 0]);
    expect(sb.exits[C.EXIT_REASON_EXTERNAL_INTERRUPT]).toBeUndefined();
    expect(sa.nestedEntries).toBe(sb.nestedEntries);
  });

  it('a signal from an event during VMLAUNCH’s own emulation (L1 still): taken at the loop top once guest mode is entered, once', () => {
    let calls = 0;
    let data = -1n;
    const { r } = longWorkL2(1n, (rr) => {
      calls++;
      expect(rr.vcpu.x86.guestMode).toBe(true);
      data = rr.vm.memory.readU64(L2_DATA);
    });
    expect(vmlaunch(r.vcpu).status).toBe('ok');
    expect(calls).toBe(1);
    expect(data).toBe(0n);
    expect(reason(r.vcpu)).toBe(C.EXIT_REASON_VMCALL);
    expect(r.nested.state(r.vcpu).stats.userspaceExits).toBe(1);
  });
});

describe('a signal while L2 is halted (HLT exiting off: vcpu_block in L0)', () => {
  const WAKE = 300_000n;
  const SIGNAL = 40_000n;
  function haltedL2() {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'hlt' }, { op: 'store', gpa: L2_DATA, value: 0x99n }, { op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE, guestRflags: C.X86_EFLAGS_FIXED | C.X86_EFLAGS_IF });
    const t0 = r.hv.sim.now;
    r.nested.raiseInterrupt(r.vcpu, 0x30, t0 + WAKE); // injected into L2 (no external-interrupt exiting)
    return { r, t0 };
  }

  it('ends the block at the signal’s time (not the wake time), HALTED inside the handler; L2 still wakes at its interrupt', () => {
    const { r, t0 } = haltedL2();
    const nv = r.nested.state(r.vcpu);
    let seen: { now: bigint; mp: number; guestMode: boolean; data: bigint; flags: number } | undefined;
    r.hv.sim.schedule(t0 + SIGNAL, () => r.nested.requestUserspaceExit(r.vcpu, () => {
      seen = {
        now: r.hv.sim.now, mp: r.vcpu.getMpState(), guestMode: r.vcpu.x86.guestMode, data: r.vm.memory.readU64(L2_DATA),
        flags: nestedFlags(r.vcpu),
      };
    }));
    const l2Runs: bigint[] = [];
    nv.listeners.push((e) => {
      if (e.kind === 'l2-run') l2Runs.push(e.at);
    });
    expect(vmlaunch(r.vcpu)).toMatchObject({ status: 'ok', hung: false });
    expect(seen).toEqual({ now: t0 + SIGNAL, mp: C.KVM_MP_STATE_HALTED, guestMode: true, data: 0n, flags: K.KVM_STATE_NESTED_GUEST_MODE });
    // afterwards: blocked again until the interrupt, which L2 takes
    expect(reason(r.vcpu)).toBe(C.EXIT_REASON_VMCALL);
    expect(r.vm.memory.readU64(L2_DATA)).toBe(0x99n);
    expect(nv.stats.l2Interrupts).toBe(1);
    expect(nv.stats.userspaceExits).toBe(1);
    expect(l2Runs).toHaveLength(2); // up to the HLT, then from the wake on (no entry for the signal)
    expect(l2Runs[1]! - t0).toBeGreaterThanOrEqual(WAKE);
    expect(r.hv.sim.now - t0).toBeGreaterThanOrEqual(WAKE);
    expect(r.vcpu.getMpState()).toBe(C.KVM_MP_STATE_RUNNABLE);
  });

  it('woken by the preemption timer instead: the handler runs at the signal’s time, the exit is still 52', () => {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'hlt' }, { op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE, pin: C.PIN_BASED_VMX_PREEMPTION_TIMER, preemptionTimer: 100_000n });
    const t0 = r.hv.sim.now;
    let at: bigint | null = null;
    let mp = -1;
    r.hv.sim.schedule(t0 + 20_000n, () => r.nested.requestUserspaceExit(r.vcpu, () => {
      at = r.hv.sim.now;
      mp = r.vcpu.getMpState();
    }));
    vmlaunch(r.vcpu);
    expect(at).toBe(t0 + 20_000n);
    expect(mp).toBe(C.KVM_MP_STATE_HALTED);
    expect(reason(r.vcpu)).toBe(C.EXIT_REASON_PREEMPTION_TIMER);
    expect(r.hv.sim.now - t0).toBeGreaterThan(20_000n + 100_000n); // the timer fired well after the signal
  });

  it('a signal that arrives as L2 halts is taken at the top of the loop, before vcpu_block waits: at the halt’s time', () => {
    const { r, t0 } = haltedL2();
    const nv = r.nested.state(r.vcpu);
    let haltAt: bigint | null = null;
    let at: bigint | null = null;
    let mp = -1;
    nv.listeners.push((e) => {
      if (e.kind !== 'l2-halt') return;
      haltAt = r.hv.sim.now;
      r.nested.requestUserspaceExit(r.vcpu, () => {
        at = r.hv.sim.now;
        mp = r.vcpu.getMpState();
      });
    });
    vmlaunch(r.vcpu);
    expect(haltAt).not.toBeNull();
    expect(at).toBe(haltAt);
    expect(at! - t0).toBeLessThan(WAKE);
    expect(mp).toBe(C.KVM_MP_STATE_HALTED);
    expect(nv.stats.userspaceExits).toBe(1);
    expect(reason(r.vcpu)).toBe(C.EXIT_REASON_VMCALL);
    expect(r.vm.memory.readU64(L2_DATA)).toBe(0x99n);
  });
});

describe('a handler that throws abandons the run', () => {
  it('the exception comes out of VMLAUNCH; the vCPU is left in guest mode, and a later KVM_RUN finishes the entry', () => {
    const { r } = longWorkL2(1_000n, () => {
      throw new Error('VMM stops here');
    });
    const nv = r.nested.state(r.vcpu);
    expect(() => vmlaunch(r.vcpu)).toThrow('VMM stops here');
    expect(r.vcpu.x86.guestMode).toBe(true);
    expect(r.nested.signalPending(r.vcpu)).toBe(false);
    expect(nv.stats.userspaceExits).toBe(1);
    expect(r.vm.memory.readU64(L2_DATA)).toBe(0n); // L2 stopped where the signal found it
    expect(r.nested.runNested(r.vcpu)).toBe(true);
    expect(r.vcpu.x86.guestMode).toBe(false);
    expect(r.vm.memory.readU64(L2_DATA)).toBe(0x77n);
    expect(reason(r.vcpu)).toBe(C.EXIT_REASON_VMCALL);
  });

  it('and out of VMRESUME', () => {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'vmcall' }, { op: 'work', ns: 50_000 }, { op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE });
    expect(vmlaunch(r.vcpu).status).toBe('ok');
    skip(r.vcpu);
    class Stop extends Error {}
    r.hv.sim.after(10_000n, () => r.nested.requestUserspaceExit(r.vcpu, () => {
      throw new Stop('stop');
    }));
    expect(() => vmresume(r.vcpu)).toThrow(Stop);
    expect(r.vcpu.x86.guestMode).toBe(true);
  });
});

describe('requestUserspaceExit / signalPending / cancelUserspaceExit', () => {
  it('EBUSY on a second request (the first handler stays), EINVAL on a non-function', () => {
    const { r } = longWorkL2();
    const calls: string[] = [];
    expect(r.nested.signalPending(r.vcpu)).toBe(false);
    expect(errnoOf(() => r.nested.requestUserspaceExit(r.vcpu, 42 as unknown as () => void))).toBe('EINVAL');
    expect(errnoOf(() => r.nested.requestUserspaceExit(r.vcpu, undefined as unknown as () => void))).toBe('EINVAL');
    expect(r.nested.signalPending(r.vcpu)).toBe(false);
    r.nested.requestUserspaceExit(r.vcpu, () => void calls.push('first'));
    expect(r.nested.signalPending(r.vcpu)).toBe(true);
    expect(errnoOf(() => r.nested.requestUserspaceExit(r.vcpu, () => void calls.push('second')))).toBe('EBUSY');
    expect(errnoOf(() => r.nested.requestUserspaceExit(r.vcpu, 'x' as unknown as () => void))).toBe('EINVAL');
    vmlaunch(r.vcpu);
    expect(calls).toEqual(['first']);
    expect(r.nested.signalPending(r.vcpu)).toBe(false);
    // once delivered, a new one is accepted
    expect(errnoOf(() => r.nested.requestUserspaceExit(r.vcpu, () => {}))).toBeUndefined();
  });

  it('cancel: true, then false; a cancelled signal never runs and costs no userspace exit', () => {
    const { r } = longWorkL2();
    const nv = r.nested.state(r.vcpu);
    let ran = false;
    expect(r.nested.cancelUserspaceExit(r.vcpu)).toBe(false);
    r.nested.requestUserspaceExit(r.vcpu, () => void (ran = true));
    expect(r.nested.cancelUserspaceExit(r.vcpu)).toBe(true);
    expect(r.nested.signalPending(r.vcpu)).toBe(false);
    expect(r.nested.cancelUserspaceExit(r.vcpu)).toBe(false);
    expect(vmlaunch(r.vcpu).status).toBe('ok');
    expect(ran).toBe(false);
    expect(nv.stats.userspaceExits).toBe(0);
    expect(reason(r.vcpu)).toBe(C.EXIT_REASON_VMCALL);
    // after a cancel a new request is accepted and delivered
    let second = false;
    r.nested.requestUserspaceExit(r.vcpu, () => void (second = true));
    skip(r.vcpu);
    vmresume(r.vcpu);
    expect(second).toBe(true);
    expect(nv.stats.userspaceExits).toBe(1);
  });

  it('cancelled from an event while L2 runs: the handler never runs', () => {
    const { r, t0 } = longWorkL2();
    let ran = false;
    let cancelled: boolean | undefined;
    r.hv.sim.schedule(t0 + 20_000n, () => {
      expect(r.vcpu.x86.guestMode).toBe(true); // inside L2's WORK
      r.nested.requestUserspaceExit(r.vcpu, () => void (ran = true));
    });
    r.hv.sim.schedule(t0 + 30_000n, () => void (cancelled = r.nested.cancelUserspaceExit(r.vcpu)));
    vmlaunch(r.vcpu);
    expect(cancelled).toBe(true);
    expect(ran).toBe(false);
    expect(r.nested.state(r.vcpu).stats.userspaceExits).toBe(0);
    expect(reason(r.vcpu)).toBe(C.EXIT_REASON_VMCALL);
  });

  it('signals are per vCPU', () => {
    const r = rig({ vcpus: 2 });
    r.nested.requestUserspaceExit(r.vcpus[0]!, () => {});
    expect(r.nested.signalPending(r.vcpus[0]!)).toBe(true);
    expect(r.nested.signalPending(r.vcpus[1]!)).toBe(false);
    expect(r.nested.cancelUserspaceExit(r.vcpus[1]!)).toBe(false);
    expect(r.nested.signalPending(r.vcpus[0]!)).toBe(true);
  });

  /** L2: two WORKs then VMCALL; L1 exits on external interrupts; an interrupt comes during the first WORK. */
  function interruptDuringWork(withCancelledSignal: boolean) {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'work', ns: 50_000 }, { op: 'work', ns: 50_000 }, { op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE, pin: C.PIN_BASED_EXT_INTR_MASK });
    const t0 = r.hv.sim.now;
    r.nested.raiseInterrupt(r.vcpu, 0x30, t0 + 10_000n); // kicks L2 during the first WORK
    if (withCancelledSignal) {
      r.hv.sim.schedule(t0 + 20_000n, () => r.nested.requestUserspaceExit(r.vcpu, () => {}));
      r.hv.sim.schedule(t0 + 30_000n, () => void r.nested.cancelUserspaceExit(r.vcpu));
    }
    vmlaunch(r.vcpu);
    return r;
  }

  it('(control) an interrupt during a WORK: L1 gets exit 1 right after it', () => {
    const r = interruptDuringWork(false);
    expect(reason(r.vcpu)).toBe(C.EXIT_REASON_EXTERNAL_INTERRUPT);
    expect(vmreadz(r.vcpu, F.GUEST_RIP)).toBe(L2_CODE + WORK_LEN);
  });

  // Cancelling a signal must not drop the kick an interrupt (or the preemption timer, or an NMI)
  // made in the meantime: else L2 runs on to its VMCALL, 50 µs later, and L1 sees exit 18, not 1.
  it('cancelling a signal does not take back an interrupt’s kick: L1 still gets exit 1 right after the WORK', () => {
    const r = interruptDuringWork(true);
    expect(reason(r.vcpu)).toBe(C.EXIT_REASON_EXTERNAL_INTERRUPT);
    expect(vmreadz(r.vcpu, F.GUEST_RIP)).toBe(L2_CODE + WORK_LEN);
  });
});

describe('a signal requested while the vCPU is in L1', () => {
  it('waits for the next VMLAUNCH: delivered once guest mode is entered, before L2 runs an instruction', () => {
    const { r } = longWorkL2();
    const nv = r.nested.state(r.vcpu);
    let seen: { guestMode: boolean; flags: number; data: bigint; entries: number } | undefined;
    r.nested.requestUserspaceExit(r.vcpu, () => {
      seen = { guestMode: r.vcpu.x86.guestMode, flags: nestedFlags(r.vcpu), data: r.vm.memory.readU64(L2_DATA), entries: nv.stats.nestedEntries };
    });
    // L1's other VMX instructions do not deliver it
    vmwrite(r.vcpu, F.GUEST_RSP, 0x1000n);
    expect(vmreadz(r.vcpu, F.GUEST_RSP)).toBe(0x1000n);
    expect(seen).toBeUndefined();
    expect(r.nested.signalPending(r.vcpu)).toBe(true);
    expect(vmlaunch(r.vcpu).status).toBe('ok');
    // straight after the entry, before vmcs02 ran: nested_run_pending is still set (KVM_STATE_NESTED_RUN_PENDING)
    expect(seen).toEqual({ guestMode: true, flags: K.KVM_STATE_NESTED_GUEST_MODE | K.KVM_STATE_NESTED_RUN_PENDING, data: 0n, entries: 1 });
    expect(reason(r.vcpu)).toBe(C.EXIT_REASON_VMCALL);
    expect(r.vm.memory.readU64(L2_DATA)).toBe(0x77n);
    expect(nv.stats.userspaceExits).toBe(1);
    // the kick that carried the signal was spent on the userspace exit: L2 took no extra exit for it
    expect(nv.stats.exits[C.EXIT_REASON_EXTERNAL_INTERRUPT]).toBeUndefined();
  });

  it('a VMRESUME that fails (VMfailValid) never enters guest mode: the signal stays pending for the next good entry', () => {
    const { r } = longWorkL2();
    let calls = 0;
    let guestMode = false;
    r.nested.requestUserspaceExit(r.vcpu, () => {
      calls++;
      guestMode = r.vcpu.x86.guestMode;
    });
    expect(vmresume(r.vcpu).status).toBe('fail-valid'); // not launched yet
    expect(calls).toBe(0);
    expect(r.nested.signalPending(r.vcpu)).toBe(true);
    expect(vmlaunch(r.vcpu).status).toBe('ok');
    expect(calls).toBe(1);
    expect(guestMode).toBe(true);
  });

  it('after an exit to L1: the signal waits in L1 and comes with the VMRESUME', () => {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'vmcall' }, { op: 'store', gpa: L2_DATA, value: 5n }, { op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE });
    vmlaunch(r.vcpu);
    expect(reason(r.vcpu)).toBe(C.EXIT_REASON_VMCALL);
    let mode: boolean | undefined;
    let data: bigint | undefined;
    r.nested.requestUserspaceExit(r.vcpu, () => {
      mode = r.vcpu.x86.guestMode;
      data = r.vm.memory.readU64(L2_DATA);
    });
    skip(r.vcpu);
    expect(mode).toBeUndefined();
    vmresume(r.vcpu);
    expect(mode).toBe(true);
    expect(data).toBe(0n);
    expect(r.vm.memory.readU64(L2_DATA)).toBe(5n);
  });
});
