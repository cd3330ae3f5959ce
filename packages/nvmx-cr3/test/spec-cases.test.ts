/** Spec nvmx-pml.md §9, cases 1–13: the vmcs12.guest_cr3 L1 reads after each nested exit. */
import {
  CPU_BASED_INTR_WINDOW_EXITING, CPU_BASED_NMI_WINDOW_EXITING, EXIT_REASON_EXTERNAL_INTERRUPT, EXIT_REASON_INTERRUPT_WINDOW,
  EXIT_REASON_NMI_WINDOW, EXIT_REASON_PREEMPTION_TIMER, EXIT_REASON_VMCALL, GUEST_ACTIVITY_HLT, GUEST_ACTIVITY_STATE,
  GUEST_CR3, GUEST_RIP, INTR_INFO_VALID_MASK, INTR_TYPE_EXT_INTR, KVM_MP_STATE_HALTED, PIN_BASED_NMI_EXITING, PIN_BASED_VIRTUAL_NMIS, VM_EXIT_INTR_INFO,
  VM_EXIT_REASON, VMX_PREEMPTION_TIMER_VALUE,
} from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import { type NvmxVariant, X86_EFLAGS_FIXED } from '../src/index.js';
import { makeNested, TIMER_1MS, WORK_VMCALL } from './harness.js';

const ALL: readonly NvmxVariant[] = ['pre-fix', 'rfc-muen', 'merged'];
const FIXED: readonly NvmxVariant[] = ['rfc-muen', 'merged'];
const HALTED = { activity: GUEST_ACTIVITY_HLT, timer: TIMER_1MS } as const;

/** A ran first (CR3 0xA000, exit 18 on VMCALL), then B (and C) are defined. */
function afterA(variant: NvmxVariant, b: Parameters<ReturnType<typeof makeNested>['l1']['define']>[1], opts: { enableEpt?: boolean } = {}) {
  const t = makeNested(variant, opts);
  t.l1.define('A', { cr3: 0xa000n, code: WORK_VMCALL, timer: TIMER_1MS });
  t.l1.define('B', b);
  expect(t.l1.enter('A').status).toBe('ok');
  return t;
}

const expectB = (variant: NvmxVariant, pre: bigint, post: bigint): bigint => (variant === 'pre-fix' ? pre : post);

describe.each(ALL)('spec §9 (%s)', (variant) => {
  it('case 1: A entered ACTIVE, L2 does VMCALL → exit 18, A.guest_cr3 = 0xA000', () => {
    const t = afterA(variant, { cr3: 0xb000n, code: WORK_VMCALL });
    expect(Number(t.l1.read('A', VM_EXIT_REASON))).toBe(EXIT_REASON_VMCALL);
    expect(t.l1.read('A', GUEST_CR3)).toBe(0xa000n);
  });

  it('case 2: B entered with HLT, squashed, timer fires → exit 52; B.guest_cr3 stale only pre-fix', () => {
    const t = afterA(variant, { cr3: 0xb000n, code: WORK_VMCALL, ...HALTED });
    const runsBefore = t.events.filter((e) => e.kind === 'l2-run').length;
    let atSquash: { pending: boolean; mpState: number; guestMode: boolean } | undefined;
    t.nv.listeners.push((e) => {
      if (e.kind === 'nested-entry' && e.squashed) atSquash = { pending: t.nv.nestedRunPending, mpState: t.vcpu.x86.mpState, guestMode: t.vcpu.x86.guestMode };
    });
    expect(t.l1.enter('B').status).toBe('ok');
    const entry = t.events.filter((e) => e.kind === 'nested-entry').at(-1);
    expect(entry?.kind === 'nested-entry' && entry.squashed).toBe(true);
    // the squash: nested_run_pending = 0, kvm_vcpu_halt() in guest mode
    expect(atSquash).toEqual({ pending: false, mpState: KVM_MP_STATE_HALTED, guestMode: true });
    expect(t.events.filter((e) => e.kind === 'l2-run').length).toBe(runsBefore); // L2 never ran
    expect(Number(t.l1.read('B', VM_EXIT_REASON))).toBe(EXIT_REASON_PREEMPTION_TIMER);
    expect(Number(t.l1.read('B', GUEST_ACTIVITY_STATE))).toBe(GUEST_ACTIVITY_HLT);
    expect(t.l1.read('B', GUEST_CR3)).toBe(expectB(variant, 0xa000n, 0xb000n));
  });

  it('case 3: same, but the wake is an external interrupt for L1 → exit 1', () => {
    const t = afterA(variant, { cr3: 0xb000n, code: WORK_VMCALL, activity: GUEST_ACTIVITY_HLT });
    t.svc.raiseInterrupt(t.vcpu, 0x30, t.hv.sim.now + 20_000n);
    expect(t.l1.enter('B').status).toBe('ok');
    expect(Number(t.l1.read('B', VM_EXIT_REASON))).toBe(EXIT_REASON_EXTERNAL_INTERRUPT);
    // acknowledged on exit: L1 gets the vector in VM_EXIT_INTR_INFO
    expect(t.l1.read('B', VM_EXIT_INTR_INFO)).toBe(BigInt((0x30 | INTR_TYPE_EXT_INTR | INTR_INFO_VALID_MASK) >>> 0));
    expect(t.l1.read('B', GUEST_CR3)).toBe(expectB(variant, 0xa000n, 0xb000n));
  });

  it('case 4: timer value 0 → immediate exit 52 on the next vcpu_run iteration', () => {
    const t = afterA(variant, { cr3: 0xb000n, code: WORK_VMCALL, activity: GUEST_ACTIVITY_HLT, timer: 0n });
    const t0 = t.hv.sim.now;
    expect(t.l1.enter('B').status).toBe('ok');
    expect(Number(t.l1.read('B', VM_EXIT_REASON))).toBe(EXIT_REASON_PREEMPTION_TIMER);
    expect(t.hv.sim.now - t0).toBeLessThan(20_000n); // no timer period waited
    expect(t.l1.read('B', GUEST_CR3)).toBe(expectB(variant, 0xa000n, 0xb000n));
  });

  it('case 6: L1 does not exit on ext-int; the interrupt wakes L2, which runs with 0xB000', () => {
    const t = afterA(variant, { cr3: 0xb000n, code: [{ op: 'vmcall' }, { op: 'hlt' }, { op: 'jmp-start' }], activity: GUEST_ACTIVITY_HLT, extIntExiting: false });
    t.svc.raiseInterrupt(t.vcpu, 0x30, t.hv.sim.now + 20_000n);
    expect(t.l1.enter('B').status).toBe('ok');
    expect(t.nv.stats.nestedExits[EXIT_REASON_EXTERNAL_INTERRUPT]).toBeUndefined();
    expect(t.nv.stats.l2Interrupts).toBe(1);
    expect(Number(t.l1.read('B', VM_EXIT_REASON))).toBe(EXIT_REASON_VMCALL);
    expect(t.l1.read('B', GUEST_CR3)).toBe(0xb000n);
  });

  it('case 7: B entered with HLT but a valid injected ext-int → no squash; cr3 0xB000', () => {
    const t = afterA(variant, { cr3: 0xb000n, code: WORK_VMCALL, ...HALTED, entryIntr: BigInt((0x20 | INTR_INFO_VALID_MASK) >>> 0) });
    expect(t.l1.enter('B').status).toBe('ok');
    expect(t.nv.stats.squashedEntries).toBe(0);
    expect(Number(t.l1.read('B', VM_EXIT_REASON))).toBe(EXIT_REASON_VMCALL);
    expect(t.l1.read('B', GUEST_CR3)).toBe(0xb000n);
  });

  it('case 8: HLT with interrupt-window exiting and IF = 1 (or NMI-window exiting) → no squash; cr3 0xB000', () => {
    // NMI-window exiting is valid only with virtual NMIs, which need NMI exiting (SDM §26.2.1.1;
    // nested_vmx_check_nmi_controls()): without them VMRESUME is VMfailValid(7).
    const cases = [
      { exec: CPU_BASED_INTR_WINDOW_EXITING, pin: 0, reason: EXIT_REASON_INTERRUPT_WINDOW },
      { exec: CPU_BASED_NMI_WINDOW_EXITING, pin: PIN_BASED_NMI_EXITING | PIN_BASED_VIRTUAL_NMIS, reason: EXIT_REASON_NMI_WINDOW },
    ] as const;
    for (const { exec, pin, reason } of cases) {
      const t = afterA(variant, { cr3: 0xb000n, code: WORK_VMCALL, ...HALTED, exec, pin });
      expect(t.l1.enter('B').status).toBe('ok');
      expect(t.nv.stats.squashedEntries).toBe(0);
      expect(Number(t.l1.read('B', VM_EXIT_REASON))).toBe(reason);
      expect(t.l1.read('B', GUEST_CR3)).toBe(0xb000n);
    }
  });

  it('case 9: HLT with interrupt-window exiting but IF = 0 → squash; stale only pre-fix', () => {
    const t = afterA(variant, { cr3: 0xb000n, code: WORK_VMCALL, ...HALTED, exec: CPU_BASED_INTR_WINDOW_EXITING, rflags: X86_EFLAGS_FIXED });
    expect(t.l1.enter('B').status).toBe('ok');
    expect(t.nv.stats.squashedEntries).toBe(1);
    expect(t.l1.read('B', GUEST_CR3)).toBe(expectB(variant, 0xa000n, 0xb000n));
  });

  it('case 10: A entered ACTIVE executes HLT, timer fires: HLT emulated by L0, exit 52, activity 1, RIP += 1', () => {
    const t = makeNested(variant);
    const code = t.l1.define('A', { cr3: 0xa000n, code: [{ op: 'hlt' }, { op: 'jmp-start' }], timer: TIMER_1MS });
    expect(t.l1.enter('A').status).toBe('ok');
    expect(t.nv.stats.l0Exits[12]).toBe(1); // EXIT_REASON_HLT handled by L0, not reflected
    expect(Number(t.l1.read('A', VM_EXIT_REASON))).toBe(EXIT_REASON_PREEMPTION_TIMER);
    expect(t.l1.read('A', GUEST_CR3)).toBe(0xa000n);
    expect(Number(t.l1.read('A', GUEST_ACTIVITY_STATE))).toBe(GUEST_ACTIVITY_HLT);
    expect(t.l1.read('A', GUEST_RIP)).toBe(code + 1n);
  });

  it('case 11: A ran; B squashed → exit; C squashed → exit', () => {
    const t = afterA(variant, { cr3: 0xb000n, code: WORK_VMCALL, ...HALTED });
    t.l1.define('C', { cr3: 0xc000n, code: WORK_VMCALL, ...HALTED });
    t.l1.enter('B');
    t.l1.enter('C');
    expect(t.l1.read('B', GUEST_CR3)).toBe(expectB(variant, 0xa000n, 0xb000n));
    expect(t.l1.read('C', GUEST_CR3)).toBe(expectB(variant, 0xa000n, 0xc000n));
  });

  it("case 12: VM subject's own CR3 leaks into S1", () => {
    const t = makeNested(variant);
    t.l1.define('V', { cr3: 0n, code: [{ op: 'mov-cr3', value: 0x10ff9000n }, { op: 'vmcall' }], timer: TIMER_1MS });
    t.l1.define('S1', { cr3: 0x189f000n, code: WORK_VMCALL, ...HALTED });
    t.l1.enter('V');
    expect(t.l1.read('V', GUEST_CR3)).toBe(0x10ff9000n);
    t.l1.enter('S1');
    expect(t.l1.read('S1', GUEST_CR3)).toBe(expectB(variant, 0x10ff9000n, 0x189f000n));
  });

  it('case 13: case 2 with enable_ept = 0 → vmcs12.guest_cr3 not refreshed, 0xB000', () => {
    const t = afterA(variant, { cr3: 0xb000n, code: WORK_VMCALL, ...HALTED }, { enableEpt: false });
    expect(t.l1.eptOffered).toBe(false); // no EPT for L1 either: L2 runs on L1's addresses
    expect(t.l1.enter('B').status).toBe('ok');
    expect(t.nv.stats.squashedEntries).toBe(1);
    expect(t.l1.read('B', GUEST_CR3)).toBe(0xb000n);
  });
});

describe.each(FIXED)('spec §9 fixes (%s)', (variant) => {
  it('case 5: case 2 with the RFC (or the merged fix): 0xB000', () => {
    const t = afterA(variant, { cr3: 0xb000n, code: WORK_VMCALL, ...HALTED });
    t.l1.enter('B');
    expect(t.l1.read('B', GUEST_CR3)).toBe(0xb000n);
    // the shared vmcs02 already held B's CR3 while the squashed entry waited
    expect(t.nv.vmcs02.peek(GUEST_CR3)).toBe(0xb000n);
  });
});

describe.each(ALL)('squashed subject re-entered after the wake exit (spec §4 row 6, %s)', (variant) => {
  it('resuming B loads the CR3 L1 read back into the processor: A\'s pre-fix, its own with a fix', () => {
    const t = afterA(variant, { cr3: 0xb000n, code: WORK_VMCALL, ...HALTED });
    t.l1.enter('B');
    t.l1.write('B', GUEST_ACTIVITY_STATE, 0n);
    t.l1.write('B', VMX_PREEMPTION_TIMER_VALUE, TIMER_1MS);
    t.l1.enter('B');
    const run = t.events.filter((e) => e.kind === 'l2-run').at(-1);
    expect(run?.kind === 'l2-run' && run.vmptr === t.l1.vmcs.get('B')).toBe(true);
    expect(run?.kind === 'l2-run' ? run.cr3 : -1n).toBe(expectB(variant, 0xa000n, 0xb000n));
  });
});
