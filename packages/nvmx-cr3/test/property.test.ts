/**
 * Property (issue 6): with the merged fix and with the RFC, for random schedules of subjects,
 * activity states, injected events and wake sources, every vmcs12.guest_cr3 after every nested
 * exit equals that L2's architectural CR3 — the value it was entered with, or the last one it
 * loaded itself. Linux 5.3/5.4 (pre-fix) breaks it: fast-check finds a schedule.
 */
import {
  CPU_BASED_INTR_WINDOW_EXITING, CPU_BASED_VM_EXEC_CONTROL, EXIT_REASON_EXTERNAL_INTERRUPT, EXIT_REASON_INTERRUPT_WINDOW,
  EXIT_REASON_PREEMPTION_TIMER, EXIT_REASON_VMCALL, GUEST_ACTIVITY_STATE, GUEST_CR3, GUEST_RFLAGS, GUEST_RIP,
  INTR_INFO_VALID_MASK, VM_ENTRY_INTR_INFO_FIELD, VM_EXIT_INSTRUCTION_LEN, VM_EXIT_REASON, VMX_PREEMPTION_TIMER_VALUE,
} from '@kvmlab/hypervisor-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AsmLine, type NvmxVariant, X86_EFLAGS_FIXED, X86_EFLAGS_IF } from '../src/index.js';
import { makeNested, TIMER_1MS } from './harness.js';

const NUM_RUNS = process.env['KVMLAB_SOAK'] !== undefined ? 1000 : 40;

const step = fc.record({
  subject: fc.integer({ min: 0, max: 3 }),
  halted: fc.boolean(),
  inject: fc.boolean(),
  intrWindow: fc.boolean(),
  ifFlag: fc.boolean(),
  wake: fc.constantFrom('timer', 'timer0', 'irq'),
  timer: fc.integer({ min: 1, max: 3000 }),
});
type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

const SUBJECTS: readonly { cr3: bigint; code: (w: number) => AsmLine[] }[] = [
  { cr3: 0x189f000n, code: (w) => [{ op: 'work', ns: w }, { op: 'hlt' }, { op: 'jmp-start' }] },
  { cr3: 0x183d000n, code: (w) => [{ op: 'work', ns: w }, { op: 'vmcall' }, { op: 'hlt' }, { op: 'jmp-start' }] },
  { cr3: 0n, code: (w) => [{ op: 'mov-cr3', value: 0x10ff9000n }, { op: 'work', ns: w }, { op: 'hlt' }, { op: 'mov-cr3', value: 0x10ffa000n }, { op: 'vmcall' }, { op: 'jmp-start' }] },
  { cr3: 0n, code: (w) => [{ op: 'work', ns: w }, { op: 'mov-cr3', value: 0x20ff9000n }, { op: 'hlt' }, { op: 'mov-cr3', value: 0x20ffb000n }, { op: 'hlt' }, { op: 'jmp-start' }] },
];

/** What the runs exercised (so that a property that holds is not vacuous). */
interface Coverage {
  squashed: number;
  readonly exits: Set<number>;
}

/** Runs a schedule; returns the first mismatch found, or null. */
function runSchedule(variant: NvmxVariant, steps: readonly Step[], workNs: number, cov?: Coverage): string | null {
  const t = makeNested(variant);
  SUBJECTS.forEach((s, i) => t.l1.define(`S${i}`, { cr3: s.cr3, code: s.code(workNs), timer: TIMER_1MS }));
  let current = -1n;
  const arch = { cr3: 0n };
  t.nv.listeners.push((e) => {
    if (e.kind === 'l2-run' && e.vmptr === current) arch.cr3 = e.cr3;
  });
  for (const [n, s] of steps.entries()) {
    const name = `S${s.subject}`;
    current = t.l1.vmcs.get(name)!;
    arch.cr3 = t.l1.read(name, GUEST_CR3);
    t.l1.write(name, GUEST_ACTIVITY_STATE, s.halted ? 1n : 0n);
    t.l1.write(name, VM_ENTRY_INTR_INFO_FIELD, s.inject ? BigInt((0x20 | INTR_INFO_VALID_MASK) >>> 0) : 0n);
    t.l1.setBits(name, CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_INTR_WINDOW_EXITING, s.intrWindow);
    t.l1.write(name, GUEST_RFLAGS, X86_EFLAGS_FIXED | (s.ifFlag ? X86_EFLAGS_IF : 0n));
    t.l1.write(name, VMX_PREEMPTION_TIMER_VALUE, s.wake === 'timer0' ? 0n : s.wake === 'irq' ? TIMER_1MS : BigInt(s.timer));
    if (s.wake === 'irq') t.svc.raiseInterrupt(t.vcpu, 0x30, t.hv.sim.now + 30_000n);
    const squashedBefore = t.nv.stats.squashedEntries;
    const r = t.l1.enter(name);
    if (r.status !== 'ok' || r.hung) return `step ${n}: entry ${r.status}${r.hung ? ' (hung)' : ''}`;
    if (cov !== undefined) {
      cov.squashed += t.nv.stats.squashedEntries - squashedBefore;
      cov.exits.add(Number(t.l1.read(name, VM_EXIT_REASON)));
    }
    const got = t.l1.read(name, GUEST_CR3);
    if (got !== arch.cr3) return `step ${n}: ${name} vmcs12.guest_cr3 0x${got.toString(16)} ≠ architectural 0x${arch.cr3.toString(16)}`;
    if (Number(t.l1.read(name, VM_EXIT_REASON)) === EXIT_REASON_VMCALL) {
      t.l1.write(name, GUEST_RIP, t.l1.read(name, GUEST_RIP) + t.l1.read(name, VM_EXIT_INSTRUCTION_LEN));
    }
  }
  return null;
}

const schedules = fc.tuple(fc.array(step, { minLength: 1, maxLength: 25 }), fc.integer({ min: 100, max: 600_000 }));

describe('vmcs12.guest_cr3 is the L2 architectural CR3 after every nested exit', () => {
  it.each(['merged', 'rfc-muen'] as const)('%s: holds for random schedules of subjects, activity states, injected events and wake sources', (variant) => {
    const cov: Coverage = { squashed: 0, exits: new Set() };
    fc.assert(fc.property(schedules, ([steps, work]) => runSchedule(variant, steps, work, cov) === null), { numRuns: NUM_RUNS, seed: 6 });
    // the schedules did reach squashed entries and every kind of exit the steps can cause
    expect(cov.squashed).toBeGreaterThan(0);
    expect([...cov.exits].sort((a, b) => a - b)).toEqual([EXIT_REASON_EXTERNAL_INTERRUPT, EXIT_REASON_INTERRUPT_WINDOW, EXIT_REASON_VMCALL, EXIT_REASON_PREEMPTION_TIMER]);
  });

  it('pre-fix: fast-check finds a schedule that breaks it', () => {
    const out = fc.check(fc.property(schedules, ([steps, work]) => runSchedule('pre-fix', steps, work) === null), { numRuns: 200, seed: 6 });
    expect(out.failed).toBe(true);
    const [steps, work] = out.counterexample![0];
    expect(runSchedule('pre-fix', steps, work)).toMatch(/guest_cr3 0x[0-9a-f]+ ≠ architectural/);
  });
});
