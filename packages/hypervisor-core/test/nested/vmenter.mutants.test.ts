// nested_vmx_enter_non_root_mode() and prepare_vmcs02_constant_state() of arch/x86/kvm/vmx/nested.c
// (issue 22, mutation testing): L0's PML page is put into vmcs02 once per vmcs02, with the index
// at its top (PML_ENTITY_NUM - 1); a VM entry whose vmcs02 preparation already failed does not
// process the VM-entry MSR-load list (the failure it reports is the first one); without EPT in L0
// vmcs01 keeps L1's CR3; the kvm_nested_vmenter tracepoint (kernels after 5.4) fires for
// VMLAUNCH/VMRESUME only.
import { describe, expect, it } from 'vitest';
import { leBytes } from '../../src/bigint.js';
import { vmlaunch, vmreadz, vmresume, vmwrite } from '../../src/x86/guest/vmx.js';
import * as F from '../../src/x86/vmcs-fields.js';
import * as C from '../../src/x86/vmx-constants.js';
import { L1_CR3, l1WithVmcs, L2_CODE, l2Code, rig } from './rig.js';

const PML_PAGE = 0x0077_0000n;

describe('prepare_vmcs02_constant_state(): once per vmcs02', () => {
  it('with L0 PML, vmcs02 logs into L0’s PML page from index 511; the constant state is not redone on later entries', () => {
    let asked = 0;
    const r = rig({ ops: { pmlAddress: () => (asked++, PML_PAGE) } });
    expect(r.nested.params.pml).toBe(true);
    l2Code(r.vcpu, [{ op: 'vmcall' }, { op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE });
    vmlaunch(r.vcpu);
    expect(Number(vmreadz(r.vcpu, F.VM_EXIT_REASON))).toBe(C.EXIT_REASON_VMCALL);
    const v02 = r.nested.state(r.vcpu).vmcs02;
    expect(v02.peek(F.PML_ADDRESS)).toBe(PML_PAGE);
    expect(v02.peek(F.GUEST_PML_INDEX)).toBe(511n); // PML_ENTITY_NUM - 1
    expect(v02.peek(F.VM_EXIT_MSR_STORE_COUNT)).toBe(0n);
    const askedAtLaunch = asked;
    expect(askedAtLaunch).toBeGreaterThan(0);
    vmwrite(r.vcpu, F.GUEST_RIP, vmreadz(r.vcpu, F.GUEST_RIP) + 3n);
    vmwrite(r.vcpu, F.GUEST_ES_SELECTOR, 0x10n); // dirties vmcs12 again: the rare fields are copied, the constant state is not redone
    vmresume(r.vcpu);
    expect(Number(vmreadz(r.vcpu, F.VM_EXIT_REASON))).toBe(C.EXIT_REASON_VMCALL);
    expect(r.nested.state(r.vcpu).vmcs02.peek(F.GUEST_ES_SELECTOR)).toBe(0x10n); // the rare fields were copied again
    expect(asked).toBe(askedAtLaunch);
  });

  it('without L0 PML vmcs02 has no PML page', () => {
    let asked = 0;
    const r = rig({ params: { pml: false }, ops: { pmlAddress: () => (asked++, PML_PAGE) } });
    l2Code(r.vcpu, [{ op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE });
    vmlaunch(r.vcpu);
    expect(r.nested.state(r.vcpu).vmcs02.peek(F.PML_ADDRESS)).toBe(0n);
    expect(asked).toBe(0);
  });
});

describe('nested_vmx_enter_non_root_mode()', () => {
  /** An entry list of one MSR entry that cannot be loaded (reserved bits set): fails at entry 1. */
  function badMsrList(r: ReturnType<typeof rig>): void {
    const list = 0x0061_0000n;
    r.vm.memory.write(list, new Uint8Array([...leBytes(4, 0x10n), ...leBytes(4, 1n), ...leBytes(8, 0n)]));
    vmwrite(r.vcpu, F.VM_ENTRY_MSR_LOAD_ADDR, list);
    vmwrite(r.vcpu, F.VM_ENTRY_MSR_LOAD_COUNT, 1n);
  }

  it('a bad MSR-load list alone fails the entry with exit 34 at entry 1', () => {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE });
    badMsrList(r);
    vmlaunch(r.vcpu);
    expect(Number(vmreadz(r.vcpu, F.VM_EXIT_REASON))).toBe((C.EXIT_REASON_MSR_LOAD_FAIL | C.VMX_EXIT_REASONS_FAILED_VMENTRY) >>> 0);
    expect(vmreadz(r.vcpu, F.EXIT_QUALIFICATION)).toBe(1n);
  });

  it('when prepare_vmcs02() fails (a bad GUEST_CR3) the MSR-load list is not processed: exit 33, not 34', () => {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE });
    badMsrList(r);
    vmwrite(r.vcpu, F.GUEST_CR3, 1n << 50n);
    vmlaunch(r.vcpu);
    expect(Number(vmreadz(r.vcpu, F.VM_EXIT_REASON))).toBe((C.EXIT_REASON_INVALID_STATE | C.VMX_EXIT_REASONS_FAILED_VMENTRY) >>> 0);
    expect(vmreadz(r.vcpu, F.EXIT_QUALIFICATION)).toBe(BigInt(C.ENTRY_FAIL_DEFAULT));
    expect(r.nested.state(r.vcpu).nestedRunPending).toBe(false);
  });

  it('without EPT in L0, entering L2 saves L1’s CR3 into vmcs01; with EPT vmcs01’s GUEST_CR3 is left alone', () => {
    for (const ept of [false, true]) {
      const r = rig({ params: { ept } });
      l2Code(r.vcpu, [{ op: 'hlt' }]);
      l1WithVmcs(r.vcpu, { guestRip: L2_CODE, activity: C.GUEST_ACTIVITY_HLT }); // squashed: L2 never runs, nothing exits
      const nv = r.nested.state(r.vcpu);
      nv.vmcs01.vmwrite(F.GUEST_CR3, 0xdead_0000n);
      vmlaunch(r.vcpu);
      expect(r.vcpu.x86.guestMode).toBe(true);
      expect(nv.vmcs01.peek(F.GUEST_CR3), `ept ${ept}`).toBe(ept ? 0xdead_0000n : L1_CR3);
    }
  });

  it('VMLAUNCH emits kvm_nested_vmenter with vmcs12’s address and L2’s RIP; KVM_SET_NESTED_STATE does not', () => {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE });
    r.hv.trace.enabled = true;
    vmlaunch(r.vcpu);
    const enters = r.hv.trace.events.filter((e) => e.name === 'kvm_nested_vmenter');
    expect(enters).toHaveLength(1);
    expect(enters[0]).toMatchObject({ args: { nested_rip: `0x${L2_CODE.toString(16)}` } });
    // Back in L2 through KVM_SET_NESTED_STATE (a migrated vCPU): no new tracepoint.
    r.vm.onIo = () => undefined;
    const saved = r.vcpu.getNestedState();
    const other = rig();
    other.hv.trace.enabled = true;
    other.vcpu.setNestedState(saved);
    expect(other.hv.trace.events.filter((e) => e.name === 'kvm_nested_vmenter')).toHaveLength(0);
  });
});
