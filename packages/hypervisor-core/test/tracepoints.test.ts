import { describe, expect, it } from 'vitest';
import { isKvmTracepoint, KVM_TRACEPOINTS, MODEL_TRACE_SYSTEM, Tracer } from '../src/index.js';

describe('the kernel tracepoint table', () => {
  it('holds the v5.4 field lists of the x86 exit tracepoints (arch/x86/kvm/trace.h)', () => {
    expect(KVM_TRACEPOINTS.kvm_exit.fields).toEqual(['exit_reason', 'guest_rip', 'isa', 'info1', 'info2', 'vcpu_id']);
    expect(KVM_TRACEPOINTS.kvm_entry.fields).toEqual(['vcpu_id']);
    expect(KVM_TRACEPOINTS.kvm_nested_vmexit.fields).toEqual(['rip', 'exit_code', 'exit_info1', 'exit_info2', 'exit_int_info', 'exit_int_info_err', 'isa']);
    expect(KVM_TRACEPOINTS.kvm_nested_vmexit_inject.fields).toEqual(['exit_code', 'exit_info1', 'exit_info2', 'exit_int_info', 'exit_int_info_err', 'isa']);
    expect(KVM_TRACEPOINTS.kvm_hypercall.fields).toEqual(['nr', 'a0', 'a1', 'a2', 'a3']);
    expect(KVM_TRACEPOINTS.kvm_pml_full.fields).toEqual(['vcpu_id']);
    expect(KVM_TRACEPOINTS.kvm_hvc_arm64.fields).toEqual(['vcpu_pc', 'r0', 'imm']);
  });

  it('marks what 5.4 did not have', () => {
    const later = Object.entries(KVM_TRACEPOINTS).filter(([, d]) => d.since === 'later').map(([n]) => n);
    expect(later.sort()).toEqual(['kvm_nested_vmenter', 'kvm_smc_arm64']);
  });

  it('every name is a kvm_* tracepoint of TRACE_SYSTEM kvm with unique field names', () => {
    for (const [name, d] of Object.entries(KVM_TRACEPOINTS)) {
      expect(name).toMatch(/^kvm_[a-z0-9_]+$/);
      expect(d.system).toBe('kvm');
      expect(new Set(d.fields).size).toBe(d.fields.length);
      expect(isKvmTracepoint(name)).toBe(true);
    }
    expect(isKvmTracepoint('EPT_VIOLATION')).toBe(false);
    expect(isKvmTracepoint('toString')).toBe(false);
  });
});

describe('Tracer', () => {
  it('gives events in time order, keeping the order of events at the same time', () => {
    const t = new Tracer();
    t.enabled = true;
    t.instant('a', 'one', 10n);
    t.tracepoint('a', 'kvm_pml_full', 10n, { vcpu_id: 0 });
    t.slice('a', 'span', 5n, 10n); // a slice recorded when it ends
    t.instant('a', 'late note', 2n); // an annotation after the run
    expect(t.events.map((e) => [e.name, e.ts])).toEqual([['late note', 2n], ['span', 5n], ['one', 10n], ['kvm_pml_full', 10n]]);
    expect(t.events.map((e) => e.cat)).toEqual([MODEL_TRACE_SYSTEM, MODEL_TRACE_SYSTEM, MODEL_TRACE_SYSTEM, 'kvm']);
  });

  it('records nothing when disabled', () => {
    const t = new Tracer();
    t.tracepoint('a', 'kvm_entry', 1n, { vcpu_id: 0 });
    t.instant('a', 'x', 1n);
    expect(t.events).toHaveLength(0);
  });
});
