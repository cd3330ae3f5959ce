// What a nested VM-entry puts into vmcs02 (issue 22, mutation testing): prepare_vmcs02_early()
// and prepare_vmcs02() of arch/x86/kvm/vmx/nested.c (v5.4) merge L0's controls with vmcs12's
// and strip what L0 emulates; the checks here are those rules, read back from vmcs02 after L2
// ran (a VMCALL) and exited to L1.
import { describe, expect, it } from 'vitest';
import { vmlaunch, vmreadz, vmwrite } from '../../src/x86/guest/vmx.js';
import * as F from '../../src/x86/vmcs-fields.js';
import * as C from '../../src/x86/vmx-constants.js';
import type { VmcsSetup } from '../../src/x86/guest/vmx-lib.js';
import { VMX_EPTP_MT_WB, VMX_EPTP_PWL_4 } from '../../src/x86/ept.js';
import { l1WithVmcs, L2_CODE, l2Code, rig } from './rig.js';
import { leBytes } from '../../src/bigint.js';
import { VMCS12_REVISION } from '../../src/x86/nested/vmcs12-layout.js';

const b = (x: number): bigint => BigInt(x >>> 0);
const EPTP = 0x0050_0000n | VMX_EPTP_MT_WB | VMX_EPTP_PWL_4;

/** VMLAUNCH after `writes`; returns vmcs02 (read after the exit back to L1) and the vCPU. */
function entered(writes: readonly (readonly [number, bigint])[] = [], setup: Partial<VmcsSetup> = {}) {
  const r = rig();
  l2Code(r.vcpu, [{ op: 'vmcall' }]);
  l1WithVmcs(r.vcpu, { guestRip: L2_CODE, ...setup });
  for (const [f, v] of writes) expect(vmwrite(r.vcpu, f, v).status).toBe('ok');
  const tscBefore = r.vcpu.x86.tscOffset;
  const out = vmlaunch(r.vcpu);
  expect(out.status).toBe('ok');
  // L2 ran: its VMCALL, or with EPT an EPT violation on the empty EPT12 (either way not a failed entry).
  expect(Number(vmreadz(r.vcpu, F.VM_EXIT_REASON)) & C.VMX_EXIT_REASONS_FAILED_VMENTRY).toBe(0);
  const nv = r.nested.state(r.vcpu);
  const v02 = (f: number) => nv.vmcs02.peek(f);
  const has = (f: number, bit: number) => (v02(f) & b(bit)) !== 0n;
  return { r, nv, v02, has, tscBefore };
}
const rd = (r: ReturnType<typeof rig>, f: number) => vmreadz(r.vcpu, f);

describe('prepare_vmcs02_early(): the controls', () => {
  it("pin-based: vmcs12's bits reach vmcs02 except the preemption timer (an hrtimer in L0) and posted interrupts", () => {
    const pin = rig();
    l1WithVmcs(pin.vcpu, { guestRip: L2_CODE });
    const p12 = rd(pin, F.PIN_BASED_VM_EXEC_CONTROL) | b(C.PIN_BASED_VMX_PREEMPTION_TIMER);
    const { has } = entered([[F.PIN_BASED_VM_EXEC_CONTROL, p12], [F.VMX_PREEMPTION_TIMER_VALUE, 100_000n]]);
    expect(has(F.PIN_BASED_VM_EXEC_CONTROL, C.PIN_BASED_VMX_PREEMPTION_TIMER)).toBe(false);
    expect(has(F.PIN_BASED_VM_EXEC_CONTROL, C.PIN_BASED_POSTED_INTR)).toBe(false);
    expect(has(F.PIN_BASED_VM_EXEC_CONTROL, C.PIN_BASED_EXT_INTR_MASK)).toBe(true);
  });

  it("processor-based: the interrupt/NMI window bits come from vmcs12 only; I/O always exits unconditionally", () => {
    const plain = entered();
    expect(plain.has(F.CPU_BASED_VM_EXEC_CONTROL, C.CPU_BASED_VIRTUAL_INTR_PENDING)).toBe(false);
    expect(plain.has(F.CPU_BASED_VM_EXEC_CONTROL, C.CPU_BASED_VIRTUAL_NMI_PENDING)).toBe(false);
    expect(plain.has(F.CPU_BASED_VM_EXEC_CONTROL, C.CPU_BASED_UNCOND_IO_EXITING)).toBe(true);
    expect(plain.has(F.CPU_BASED_VM_EXEC_CONTROL, C.CPU_BASED_HLT_EXITING)).toBe(true); // L0's own
    const io = entered([], { primary: C.CPU_BASED_USE_IO_BITMAPS });
    // (USE_IO_BITMAPS with addresses 0 passes the checks: page 0 is page aligned.)
    expect(io.has(F.CPU_BASED_VM_EXEC_CONTROL, C.CPU_BASED_USE_IO_BITMAPS)).toBe(false);
    expect(io.has(F.CPU_BASED_VM_EXEC_CONTROL, C.CPU_BASED_UNCOND_IO_EXITING)).toBe(true);
  });

  it('with TPR shadow vmcs02 takes TPR_THRESHOLD from vmcs12', () => {
    const { has, v02 } = entered([[F.VIRTUAL_APIC_PAGE_ADDR, 0x0060_0000n], [F.TPR_THRESHOLD, 5n]], { primary: C.CPU_BASED_TPR_SHADOW });
    expect(has(F.CPU_BASED_VM_EXEC_CONTROL, C.CPU_BASED_TPR_SHADOW)).toBe(true);
    expect(v02(F.TPR_THRESHOLD)).toBe(5n);
    expect(entered([[F.TPR_THRESHOLD, 5n]]).v02(F.TPR_THRESHOLD)).toBe(0n);
  });

  it("secondary: never VMCS shadowing, never vmcs12's PML (both emulated); L0's EPT stays", () => {
    const sh = entered([[F.VMREAD_BITMAP, 0x0060_0000n], [F.VMWRITE_BITMAP, 0x0060_1000n]], { secondary: C.SECONDARY_EXEC_SHADOW_VMCS });
    expect(sh.has(F.SECONDARY_VM_EXEC_CONTROL, C.SECONDARY_EXEC_SHADOW_VMCS)).toBe(false);
    expect(sh.has(F.SECONDARY_VM_EXEC_CONTROL, C.SECONDARY_EXEC_ENABLE_EPT)).toBe(true);
    const pml = entered([[F.PML_ADDRESS, 0x0060_0000n]], { eptp: EPTP, secondary: C.SECONDARY_EXEC_ENABLE_PML });
    expect(pml.has(F.SECONDARY_VM_EXEC_CONTROL, C.SECONDARY_EXEC_ENABLE_PML)).toBe(false); // no PML log in this rig's L0
    expect(entered().has(F.SECONDARY_VM_EXEC_CONTROL, C.SECONDARY_EXEC_WBINVD_EXITING)).toBe(true); // L0's own
  });

  it('entry/exit: IA-32e from the guest EFER; LOAD_EFER on both sides exactly when guest and host EFER differ', () => {
    const same = entered();
    expect(same.has(F.VM_ENTRY_CONTROLS, C.VM_ENTRY_IA32E_MODE)).toBe(true);
    expect(same.has(F.VM_ENTRY_CONTROLS, C.VM_ENTRY_LOAD_IA32_EFER)).toBe(false);
    expect(same.has(F.VM_EXIT_CONTROLS, C.VM_EXIT_LOAD_IA32_EFER)).toBe(false);
    const efer = same.r.vcpu.x86.efer;
    // L2 with its own EFER (NXE toggled) loaded through the entry control.
    const diff = entered([[F.GUEST_IA32_EFER, efer ^ (1n << 11n)]], { entry: C.VM_ENTRY_LOAD_IA32_EFER });
    expect(diff.has(F.VM_ENTRY_CONTROLS, C.VM_ENTRY_LOAD_IA32_EFER)).toBe(true);
    expect(diff.has(F.VM_EXIT_CONTROLS, C.VM_EXIT_LOAD_IA32_EFER)).toBe(true);
    expect(diff.has(F.VM_ENTRY_CONTROLS, C.VM_ENTRY_IA32E_MODE)).toBe(true);
    const eq = entered([[F.GUEST_IA32_EFER, efer]], { entry: C.VM_ENTRY_LOAD_IA32_EFER });
    expect(eq.has(F.VM_ENTRY_CONTROLS, C.VM_ENTRY_LOAD_IA32_EFER)).toBe(false);
  });

  it('VPID: vmcs02 gets its own VPID when vmcs12 enables VPID, else runs L2 on L1\'s', () => {
    const own = entered([[F.VIRTUAL_PROCESSOR_ID, 7n]], { secondary: C.SECONDARY_EXEC_ENABLE_VPID });
    const shared = entered();
    const vpid01 = shared.nv.vmcs01.peek(F.VIRTUAL_PROCESSOR_ID);
    expect(vpid01).not.toBe(0n);
    expect(shared.v02(F.VIRTUAL_PROCESSOR_ID)).toBe(vpid01);
    expect(own.v02(F.VIRTUAL_PROCESSOR_ID)).not.toBe(own.nv.vmcs01.peek(F.VIRTUAL_PROCESSOR_ID));
    expect(own.v02(F.VIRTUAL_PROCESSOR_ID)).not.toBe(0n);
    expect(own.v02(F.VIRTUAL_PROCESSOR_ID)).not.toBe(7n);
  });
});

describe('prepare_vmcs02(): guest state', () => {
  it('CR0_GUEST_HOST_MASK: L0 owns every bit but TS, and TS too when L1 intercepts it', () => {
    expect(entered().v02(F.CR0_GUEST_HOST_MASK) & 0xffff_ffffn).toBe(0xffff_ffffn & ~b(Number(C.X86_CR0_TS)));
    expect(entered([[F.CR0_GUEST_HOST_MASK, C.X86_CR0_TS]]).v02(F.CR0_GUEST_HOST_MASK) & 0xffff_ffffn).toBe(0xffff_ffffn);
  });

  it("the CR0/CR4 read shadows are what L2 reads: guest bits outside L1's mask, shadow bits inside", () => {
    const probe = rig();
    l1WithVmcs(probe.vcpu, { guestRip: L2_CODE });
    const cr0 = rd(probe, F.GUEST_CR0);
    const cr4 = rd(probe, F.GUEST_CR4);
    const { v02 } = entered([
      [F.CR0_GUEST_HOST_MASK, C.X86_CR0_TS],
      [F.CR0_READ_SHADOW, (cr0 & ~C.X86_CR0_TS) | C.X86_CR0_TS],
      [F.GUEST_CR0, cr0 & ~C.X86_CR0_TS],
      [F.CR4_GUEST_HOST_MASK, C.X86_CR4_VMXE],
      [F.CR4_READ_SHADOW, cr4 & ~C.X86_CR4_VMXE],
    ]);
    expect(v02(F.CR0_READ_SHADOW)).toBe((cr0 & ~C.X86_CR0_TS) | C.X86_CR0_TS);
    expect(v02(F.CR4_READ_SHADOW)).toBe(cr4 & ~C.X86_CR4_VMXE);
  });

  it('GUEST_IA32_PAT is loaded from vmcs12 only with VM_ENTRY_LOAD_IA32_PAT', () => {
    const pat = 0x0007_0406_0007_0406n;
    expect(entered([[F.GUEST_IA32_PAT, pat]], { entry: C.VM_ENTRY_LOAD_IA32_PAT }).v02(F.GUEST_IA32_PAT)).toBe(pat);
    expect(entered([[F.GUEST_IA32_PAT, pat]]).v02(F.GUEST_IA32_PAT)).not.toBe(pat);
  });

  it('TSC_OFFSET: L1 offset plus vmcs12 TSC_OFFSET with USE_TSC_OFFSETING, L1 offset without', () => {
    const on = entered([[F.TSC_OFFSET, 12_345n]], { primary: C.CPU_BASED_USE_TSC_OFFSETING });
    expect(on.v02(F.TSC_OFFSET)).toBe(on.tscBefore + 12_345n);
    expect(on.r.vcpu.x86.tscOffset).toBe(on.tscBefore); // back in L1 after the exit
    const off = entered([[F.TSC_OFFSET, 12_345n]]);
    expect(off.v02(F.TSC_OFFSET)).toBe(off.tscBefore);
  });

  it('exception bitmap, RSP and RIP come from vmcs12', () => {
    const { v02 } = entered([[F.EXCEPTION_BITMAP, 1n << 14n]], { guestRsp: 0x7000n });
    expect(v02(F.EXCEPTION_BITMAP)).toBe(1n << 14n);
    expect(v02(F.GUEST_RSP)).toBe(0x7000n);
    expect(v02(F.GUEST_RIP) >= L2_CODE).toBe(true);
  });

  it('prepare_vmcs02_rare(): the segment fields and the page-fault error-code filter are copied (EPT on)', () => {
    const { v02 } = entered([[F.GUEST_LDTR_LIMIT, 0x1234n], [F.GUEST_GS_BASE, 0xabc000n], [F.PAGE_FAULT_ERROR_CODE_MASK, 3n], [F.PAGE_FAULT_ERROR_CODE_MATCH, 1n]]);
    expect(v02(F.GUEST_LDTR_LIMIT)).toBe(0x1234n);
    expect(v02(F.GUEST_GS_BASE)).toBe(0xabc000n);
    expect(v02(F.PAGE_FAULT_ERROR_CODE_MASK)).toBe(3n);
    expect(v02(F.PAGE_FAULT_ERROR_CODE_MATCH)).toBe(1n);
  });
});

describe('nested_vmx_enter_non_root_mode(): the rest', () => {
  it('vmcs02 never links a shadow VMCS: its link pointer is -1 whatever vmcs12 says', () => {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE, secondary: C.SECONDARY_EXEC_SHADOW_VMCS });
    const shadow = 0x0070_0000n;
    r.vcpu.write(shadow, leBytes(4, BigInt(VMCS12_REVISION) | 0x8000_0000n)); // a shadow VMCS12
    vmwrite(r.vcpu, F.VMCS_LINK_POINTER, shadow);
    vmwrite(r.vcpu, F.VMREAD_BITMAP, 0x0060_0000n);
    vmwrite(r.vcpu, F.VMWRITE_BITMAP, 0x0060_1000n);
    expect(vmlaunch(r.vcpu).status).toBe('ok');
    expect(Number(vmreadz(r.vcpu, F.VM_EXIT_REASON))).toBe(C.EXIT_REASON_VMCALL); // the link was valid
    expect(r.nested.state(r.vcpu).vmcs02.peek(F.VMCS_LINK_POINTER)).toBe(0xffff_ffff_ffff_ffffn);
  });

  it('an L2 outside IA-32e mode: vmcs02 enters without IA-32e and loads the (different) guest EFER', () => {
    const probe = rig();
    l1WithVmcs(probe.vcpu, { guestRip: L2_CODE });
    const entry = vmreadz(probe.vcpu, F.VM_ENTRY_CONTROLS) & ~b(C.VM_ENTRY_IA32E_MODE);
    const { has } = entered([[F.VM_ENTRY_CONTROLS, entry]]);
    expect(has(F.VM_ENTRY_CONTROLS, C.VM_ENTRY_IA32E_MODE)).toBe(false);
    expect(has(F.VM_ENTRY_CONTROLS, C.VM_ENTRY_LOAD_IA32_EFER)).toBe(true);
    expect(has(F.VM_EXIT_CONTROLS, C.VM_EXIT_LOAD_IA32_EFER)).toBe(true);
  });

  it("the VMX-preemption timer at 0 expires at once: L2's first instruction never runs (exit 52)", () => {
    const probe = rig();
    l1WithVmcs(probe.vcpu, { guestRip: L2_CODE });
    const pin = vmreadz(probe.vcpu, F.PIN_BASED_VM_EXEC_CONTROL) | b(C.PIN_BASED_VMX_PREEMPTION_TIMER);
    const r = rig();
    l2Code(r.vcpu, [{ op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE });
    vmwrite(r.vcpu, F.PIN_BASED_VM_EXEC_CONTROL, pin);
    vmwrite(r.vcpu, F.VMX_PREEMPTION_TIMER_VALUE, 0n);
    expect(vmlaunch(r.vcpu).status).toBe('ok');
    expect(Number(vmreadz(r.vcpu, F.VM_EXIT_REASON))).toBe(C.EXIT_REASON_PREEMPTION_TIMER);
    expect(vmreadz(r.vcpu, F.GUEST_RIP)).toBe(L2_CODE);
  });

  it('without EPT in L0 the page-fault error-code filter of vmcs02 is 0/0 (L0 needs every #PF), and the PDPTEs are not copied', () => {
    const r = rig({ params: { ept: false } });
    l2Code(r.vcpu, [{ op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE });
    vmwrite(r.vcpu, F.PAGE_FAULT_ERROR_CODE_MASK, 3n);
    vmwrite(r.vcpu, F.PAGE_FAULT_ERROR_CODE_MATCH, 1n);
    vmwrite(r.vcpu, F.GUEST_PDPTR0, 0x1001n);
    expect(vmlaunch(r.vcpu).status).toBe('ok');
    const v02 = r.nested.state(r.vcpu).vmcs02;
    expect([v02.peek(F.PAGE_FAULT_ERROR_CODE_MASK), v02.peek(F.PAGE_FAULT_ERROR_CODE_MATCH), v02.peek(F.GUEST_PDPTR0)]).toEqual([0n, 0n, 0n]);
    const e = entered([[F.GUEST_PDPTR0, 0x1001n]]);
    expect(e.v02(F.GUEST_PDPTR0)).toBe(0x1001n);
  });
});

describe('nested_vmx_enter_non_root_mode(): failure and edge paths', () => {
  it('without enable_vpid vmcs02 gets no VPID', () => {
    const r = rig({ params: { vpid: false } });
    l2Code(r.vcpu, [{ op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE });
    expect(vmlaunch(r.vcpu).status).toBe('ok');
    expect(r.nested.state(r.vcpu).vmcs02.peek(F.VIRTUAL_PROCESSOR_ID)).toBe(0n);
  });

  it("vmcs12's secondary controls reach vmcs02 only with ACTIVATE_SECONDARY_CONTROLS", () => {
    const desc = b(C.SECONDARY_EXEC_DESC); // offered to L1, not used by L0
    const on = entered([[F.SECONDARY_VM_EXEC_CONTROL, desc]]);
    expect(on.has(F.SECONDARY_VM_EXEC_CONTROL, C.SECONDARY_EXEC_DESC)).toBe(true);
    const probe = rig();
    l1WithVmcs(probe.vcpu, { guestRip: L2_CODE });
    const exec = vmreadz(probe.vcpu, F.CPU_BASED_VM_EXEC_CONTROL) & ~b(C.CPU_BASED_ACTIVATE_SECONDARY_CONTROLS);
    const off = entered([[F.CPU_BASED_VM_EXEC_CONTROL, exec], [F.SECONDARY_VM_EXEC_CONTROL, desc]]);
    expect(off.has(F.SECONDARY_VM_EXEC_CONTROL, C.SECONDARY_EXEC_DESC)).toBe(false);
  });

  it('with EPT12, L2 runs on the shadow of EPTP12: an unmapped code page is an EPT violation reflected to L1', () => {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE, eptp: EPTP }); // EPT12 tables all zero: nothing mapped
    expect(vmlaunch(r.vcpu).status).toBe('ok');
    expect(Number(vmreadz(r.vcpu, F.VM_EXIT_REASON))).toBe(C.EXIT_REASON_EPT_VIOLATION);
    expect(vmreadz(r.vcpu, F.GUEST_PHYSICAL_ADDRESS) >> 12n).toBe(L2_CODE >> 12n);
  });

  it('a GUEST_CR3 above MAXPHYADDR without EPT12 fails the entry (nested_vmx_load_cr3), restoring the TSC offset', () => {
    for (const useTsc of [true, false]) {
      const r = rig();
      l2Code(r.vcpu, [{ op: 'vmcall' }]);
      l1WithVmcs(r.vcpu, { guestRip: L2_CODE, ...(useTsc ? { primary: C.CPU_BASED_USE_TSC_OFFSETING } : {}) });
      vmwrite(r.vcpu, F.GUEST_CR3, 1n << 50n);
      vmwrite(r.vcpu, F.TSC_OFFSET, 777n);
      const tsc = r.vcpu.x86.tscOffset;
      expect(vmlaunch(r.vcpu).status).toBe('ok');
      const reason = Number(vmreadz(r.vcpu, F.VM_EXIT_REASON));
      expect(reason).toBe((C.EXIT_REASON_INVALID_STATE | C.VMX_EXIT_REASONS_FAILED_VMENTRY) >>> 0);
      expect(vmreadz(r.vcpu, F.EXIT_QUALIFICATION)).toBe(BigInt(C.ENTRY_FAIL_DEFAULT));
      expect(r.vcpu.x86.tscOffset, `USE_TSC_OFFSETING ${useTsc}`).toBe(tsc);
      expect(r.vcpu.x86.guestMode).toBe(false);
    }
  });

  it('the HLT squash clears nested_run_pending before halting', () => {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE, activity: C.GUEST_ACTIVITY_HLT });
    expect(vmlaunch(r.vcpu).hung).toBe(true);
    expect(r.nested.state(r.vcpu).nestedRunPending).toBe(false);
  });
});
