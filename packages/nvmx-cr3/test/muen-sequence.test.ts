/** Spec §4: the Muen event sequence, row by row, with vmcs02.GUEST_CR3 checked at each step. */
import { EXIT_REASON_PREEMPTION_TIMER, GUEST_ACTIVITY_HLT, GUEST_ACTIVITY_STATE, GUEST_CR3, GUEST_RIP, VM_EXIT_REASON } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import type { NvmxVariant } from '../src/index.js';
import { makeNested, TIMER_1MS } from './harness.js';

const S1 = 0x189f000n;
const S3 = 0x183d000n;

describe.each(['pre-fix', 'rfc-muen', 'merged'] as const)('spec §4 Muen sequence (%s)', (variant: NvmxVariant) => {
  it('rows 1–5: S3 runs and idles, S1 is squashed, the timer exit hands L1 a CR3', () => {
    const t = makeNested(variant);
    const code3 = t.l1.define('S3', { cr3: S3, code: [{ op: 'work', ns: 2000 }, { op: 'hlt' }, { op: 'jmp-start' }], timer: TIMER_1MS });
    t.l1.define('S1', { cr3: S1, code: [{ op: 'work', ns: 2000 }, { op: 'hlt' }], timer: TIMER_1MS, activity: GUEST_ACTIVITY_HLT });
    let vmcs02AtSquash = -1n;
    t.nv.listeners.push((e) => {
      if (e.kind === 'nested-entry' && e.squashed) vmcs02AtSquash = t.nv.vmcs02.peek(GUEST_CR3);
    });
    // row 1: S3 entered ACTIVE and really runs on vmcs02 with its CR3
    t.l1.enter('S3');
    const run = t.events.find((e) => e.kind === 'l2-run');
    expect(run?.kind === 'l2-run' && run.cr3).toBe(S3);
    // who wrote vmcs02.GUEST_CR3 on the way in: vmx_set_cr3() in vcpu_enter_guest (pre-fix), plus
    // nested_vmx_load_cr3() (RFC), or prepare_vmcs02() alone (merged: vmx_set_cr3 skips it in guest mode)
    const entry = t.events.find((e) => e.kind === 'nested-entry');
    expect(entry?.kind === 'nested-entry' && !entry.squashed ? entry.cr3Vmwrites : -1).toBe({ 'pre-fix': 1, 'rfc-muen': 2, merged: 1 }[variant]);
    // row 2: S3's HLT is intercepted by L0 (its own HLT exiting) and emulated, not reflected
    expect(t.events.some((e) => e.kind === 'l2-halt')).toBe(true);
    expect(t.nv.stats.nestedExits[12]).toBeUndefined();
    // row 3: the preemption timer exit: S3's own CR3, activity HLT, RIP after HLT
    expect(Number(t.l1.read('S3', VM_EXIT_REASON))).toBe(EXIT_REASON_PREEMPTION_TIMER);
    expect(t.l1.read('S3', GUEST_CR3)).toBe(S3);
    expect(Number(t.l1.read('S3', GUEST_ACTIVITY_STATE))).toBe(GUEST_ACTIVITY_HLT);
    expect(t.l1.read('S3', GUEST_RIP)).toBe(code3 + 8n);
    // row 4: S1 entered with HLT is squashed; vmcs02 keeps S3's CR3 only pre-fix
    t.l1.enter('S1');
    expect(t.nv.stats.squashedEntries).toBe(1);
    expect(vmcs02AtSquash).toBe(variant === 'pre-fix' ? S3 : S1);
    // row 5: the wake exit reads vmcs02
    expect(Number(t.l1.read('S1', VM_EXIT_REASON))).toBe(EXIT_REASON_PREEMPTION_TIMER);
    expect(t.l1.read('S1', GUEST_CR3)).toBe(variant === 'pre-fix' ? S3 : S1);
  });
});
