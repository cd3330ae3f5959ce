import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { vmInstructionError, vmlaunch, vmwrite } from '../../src/x86/guest/vmx.js';
import { KVM_INTEL_DEFAULTS, hardwareSetup, type KvmIntelParams } from '../../src/x86/nested/params.js';
import { fixedBitsValid, nestedVmxSetupCtlsMsrs, vmxControlVerify, vmxGetVmxMsr } from '../../src/x86/nested/vmx-msrs.js';
import * as F from '../../src/x86/vmcs-fields.js';
import * as C from '../../src/x86/vmx-constants.js';
import { l1WithVmcs, L2_CODE, l2Code, rig } from './rig.js';

const msr = (p: Partial<KvmIntelParams>, index: number): bigint => {
  const params = hardwareSetup({ ...KVM_INTEL_DEFAULTS, ...p }, true);
  return vmxGetVmxMsr(nestedVmxSetupCtlsMsrs(params), index)!;
};
const high = (v: bigint): number => Number(v >> 32n);

describe('VMX capability MSRs KVM offers L1 (nested_vmx_setup_ctls_msrs, v5.4)', () => {
  it('with every kvm_intel parameter on, on the model’s host CPU: the values bit by bit', () => {
    // Each value is the kernel's computation by hand: e.g. PROCBASED2 high = EPT | DESC | X2APIC
    // virtualization | VPID | WBINVD exiting | unrestricted guest | shadow VMCS | PML = 0x240f6;
    // EPT caps = exec-only | 4-level walk | WB | 2M | 1G | INVEPT | A/D | single- and all-context.
    const expected: Record<number, bigint> = {
      [C.MSR_IA32_VMX_BASIC]: 0x00d8_1000_11e5_7ed0n, // revision, 4 KiB, WB, INS/OUTS info, TRUE controls
      [C.MSR_IA32_VMX_PINBASED_CTLS]: 0x0000_007f_0000_0016n,
      [C.MSR_IA32_VMX_PROCBASED_CTLS]: 0xfff9_fffe_0401_e172n,
      [C.MSR_IA32_VMX_EXIT_CTLS]: 0x007f_efff_0003_6dffn,
      [C.MSR_IA32_VMX_ENTRY_CTLS]: 0x0000_d3ff_0000_11ffn,
      [C.MSR_IA32_VMX_MISC]: 0x0000_0000_2000_0065n, // VMWRITE any field, HLT activity, EFER.LMA saved, timer rate 5
      [C.MSR_IA32_VMX_CR0_FIXED0]: 0x8000_0021n, // PE | NE | PG
      [C.MSR_IA32_VMX_CR0_FIXED1]: 0xffff_ffffn,
      [C.MSR_IA32_VMX_CR4_FIXED0]: 0x2000n, // VMXE
      [C.MSR_IA32_VMX_CR4_FIXED1]: 0x0037_67ffn,
      [C.MSR_IA32_VMX_VMCS_ENUM]: 0x2en, // highest field index 0x17, << 1
      [C.MSR_IA32_VMX_PROCBASED_CTLS2]: 0x0002_40f6_0000_0000n,
      [C.MSR_IA32_VMX_EPT_VPID_CAP]: 0x0000_0f01_0633_4041n,
      [C.MSR_IA32_VMX_TRUE_PINBASED_CTLS]: 0x0000_007f_0000_0016n,
      [C.MSR_IA32_VMX_TRUE_PROCBASED_CTLS]: 0xfff9_fffe_0400_6172n, // CR3-load/store exiting may be 0
      [C.MSR_IA32_VMX_TRUE_EXIT_CTLS]: 0x007f_efff_0003_6dfbn, // SAVE_DEBUG_CONTROLS may be 0
      [C.MSR_IA32_VMX_TRUE_ENTRY_CTLS]: 0x0000_d3ff_0000_11fbn, // LOAD_DEBUG_CONTROLS may be 0
      [C.MSR_IA32_VMX_VMFUNC]: 0n,
    };
    for (const [index, value] of Object.entries(expected)) expect(msr({}, Number(index)), `MSR ${Number(index).toString(16)}`).toBe(value);
    expect(vmxGetVmxMsr(nestedVmxSetupCtlsMsrs(KVM_INTEL_DEFAULTS), 0x492)).toBeUndefined();
  });

  it('enable_ept=0: no EPT, no unrestricted guest, no PML, no EPT caps for L1', () => {
    const sec = high(msr({ ept: false }, C.MSR_IA32_VMX_PROCBASED_CTLS2));
    expect(sec & C.SECONDARY_EXEC_ENABLE_EPT).toBe(0);
    expect(sec & C.SECONDARY_EXEC_UNRESTRICTED_GUEST).toBe(0);
    expect(sec & C.SECONDARY_EXEC_ENABLE_PML).toBe(0);
    expect(msr({ ept: false }, C.MSR_IA32_VMX_EPT_VPID_CAP) & 0xffff_ffffn).toBe(0n);
    expect(sec & C.SECONDARY_EXEC_ENABLE_VPID).not.toBe(0); // VPID does not depend on EPT
  });

  it('unrestricted_guest=0 or eptad=0 withdraw exactly their bits', () => {
    const all = high(msr({}, C.MSR_IA32_VMX_PROCBASED_CTLS2));
    expect(high(msr({ unrestrictedGuest: false }, C.MSR_IA32_VMX_PROCBASED_CTLS2))).toBe(all & ~C.SECONDARY_EXEC_UNRESTRICTED_GUEST);
    expect(high(msr({ eptAd: false }, C.MSR_IA32_VMX_PROCBASED_CTLS2))).toBe(all & ~C.SECONDARY_EXEC_ENABLE_PML);
    const caps = msr({}, C.MSR_IA32_VMX_EPT_VPID_CAP);
    expect(msr({ eptAd: false }, C.MSR_IA32_VMX_EPT_VPID_CAP)).toBe(caps & ~C.VMX_EPT_AD_BIT);
    expect(high(msr({ vpid: false }, C.MSR_IA32_VMX_PROCBASED_CTLS2))).toBe(all & ~C.SECONDARY_EXEC_ENABLE_VPID);
    expect(msr({ vpid: false }, C.MSR_IA32_VMX_EPT_VPID_CAP) >> 32n).toBe(0n);
  });

  it('hardware_setup(): A/D bits, unrestricted guest and PML need EPT; PML needs a PML log too', () => {
    expect(hardwareSetup({ ...KVM_INTEL_DEFAULTS, ept: false }, true)).toEqual({ ept: false, eptAd: false, unrestrictedGuest: false, pml: false, vpid: true });
    expect(hardwareSetup({ ...KVM_INTEL_DEFAULTS, eptAd: false }, true).pml).toBe(false);
    expect(hardwareSetup(KVM_INTEL_DEFAULTS, false).pml).toBe(false);
    expect(hardwareSetup(KVM_INTEL_DEFAULTS, true)).toEqual(KVM_INTEL_DEFAULTS);
  });

  test.prop([fc.record({ ept: fc.boolean(), unrestrictedGuest: fc.boolean(), eptAd: fc.boolean(), pml: fc.boolean(), vpid: fc.boolean() })])(
    'every control MSR: default1 ⊆ allowed1, and TRUE_* never demand more than the plain MSR',
    (p) => {
      const m = nestedVmxSetupCtlsMsrs(hardwareSetup(p, true));
      for (const [lo, hi] of [[m.pinbasedLow, m.pinbasedHigh], [m.procbasedLow, m.procbasedHigh], [m.secondaryLow, m.secondaryHigh],
        [m.exitLow, m.exitHigh], [m.entryLow, m.entryHigh]] as const) expect((lo & ~hi) >>> 0).toBe(0);
      for (const [plain, tru] of [[C.MSR_IA32_VMX_PINBASED_CTLS, C.MSR_IA32_VMX_TRUE_PINBASED_CTLS],
        [C.MSR_IA32_VMX_PROCBASED_CTLS, C.MSR_IA32_VMX_TRUE_PROCBASED_CTLS], [C.MSR_IA32_VMX_EXIT_CTLS, C.MSR_IA32_VMX_TRUE_EXIT_CTLS],
        [C.MSR_IA32_VMX_ENTRY_CTLS, C.MSR_IA32_VMX_TRUE_ENTRY_CTLS]] as const) {
        const a = vmxGetVmxMsr(m, plain)!;
        const b = vmxGetVmxMsr(m, tru)!;
        expect(a >> 32n).toBe(b >> 32n);
        expect((b & 0xffff_ffffn) & ~(a & 0xffff_ffffn)).toBe(0n);
      }
      // EPT for L1 iff L0 has EPT; PML and A/D iff L0 has A/D bits
      expect((m.secondaryHigh & C.SECONDARY_EXEC_ENABLE_EPT) !== 0).toBe(p.ept);
      expect((m.secondaryHigh & C.SECONDARY_EXEC_ENABLE_PML) !== 0).toBe(p.ept && p.eptAd);
      expect((m.secondaryHigh & C.SECONDARY_EXEC_UNRESTRICTED_GUEST) !== 0).toBe(p.ept && p.unrestrictedGuest);
    },
  );
});

describe('vmx_control_verify / fixed_bits_valid (nested.h)', () => {
  it('default1 bits must be set, bits outside allowed1 must be clear', () => {
    expect(vmxControlVerify(0x16n, 0x16, 0x7f)).toBe(true);
    expect(vmxControlVerify(0x17n, 0x16, 0x7f)).toBe(true);
    expect(vmxControlVerify(0x14n, 0x16, 0x7f)).toBe(false); // a default1 bit clear
    expect(vmxControlVerify(0x96n, 0x16, 0x7f)).toBe(false); // a bit L1 may not set
    expect(fixedBitsValid(0x8000_0031n, 0x8000_0021n, 0xffff_ffffn)).toBe(true);
    expect(fixedBitsValid(0x31n, 0x8000_0021n, 0xffff_ffffn)).toBe(false);
    expect(fixedBitsValid(0x1_8000_0021n, 0x8000_0021n, 0xffff_ffffn)).toBe(false);
  });
});

describe('also fix: VM-entry checks use default1 and allowed1 the right way round (VMfailValid 7)', () => {
  const launchWith = (field: number, value: (cur: bigint) => bigint, opts = {}) => {
    const r = rig(opts);
    l2Code(r.vcpu, [{ op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE });
    const cur = r.nested.vmcs12At(r.vcpu, 0x2_0000n)!.get(field);
    expect(vmwrite(r.vcpu, field, value(cur)).status).toBe('ok');
    const out = vmlaunch(r.vcpu);
    return { status: out.status, error: out.status === 'fail-valid' ? vmInstructionError(r.vcpu) : 0, entries: r.nested.state(r.vcpu).stats.nestedEntries };
  };

  it('the library’s controls (default1 | wanted bits) enter', () => {
    expect(launchWith(F.GUEST_RIP, (v) => v)).toEqual({ status: 'ok', error: 0, entries: 1 });
  });

  it('a default1 bit cleared in each control → VMfailValid 7, no entry', () => {
    for (const [field, bit] of [[F.PIN_BASED_VM_EXEC_CONTROL, 0x2], [F.CPU_BASED_VM_EXEC_CONTROL, 0x2], [F.VM_EXIT_CONTROLS, 0x1],
      [F.VM_ENTRY_CONTROLS, 0x1]] as const) {
      expect(launchWith(field, (v) => v & ~BigInt(bit)), `field ${field.toString(16)}`).toEqual({ status: 'fail-valid', error: 7, entries: 0 });
    }
  });

  it('a bit outside allowed1 → VMfailValid 7 (PIN bit 7 is reserved; posted interrupts are not offered without APICv)', () => {
    expect(launchWith(F.PIN_BASED_VM_EXEC_CONTROL, (v) => v | 0x80n).error).toBe(7);
    expect(launchWith(F.PIN_BASED_VM_EXEC_CONTROL, (v) => v | BigInt(C.PIN_BASED_POSTED_INTR)).error).toBe(7);
  });

  it('a secondary control L1 was not offered fails only with ACTIVATE_SECONDARY_CONTROLS', () => {
    const noEpt = { params: { ept: false } };
    expect(launchWith(F.SECONDARY_VM_EXEC_CONTROL, () => BigInt(C.SECONDARY_EXEC_ENABLE_EPT), noEpt).error).toBe(7);
    const r = rig(noEpt);
    l2Code(r.vcpu, [{ op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE });
    const exec = r.nested.vmcs12At(r.vcpu, 0x2_0000n)!.get(F.CPU_BASED_VM_EXEC_CONTROL);
    vmwrite(r.vcpu, F.CPU_BASED_VM_EXEC_CONTROL, exec & ~BigInt(C.CPU_BASED_ACTIVATE_SECONDARY_CONTROLS >>> 0));
    vmwrite(r.vcpu, F.SECONDARY_VM_EXEC_CONTROL, BigInt(C.SECONDARY_EXEC_ENABLE_EPT | C.SECONDARY_EXEC_UNRESTRICTED_GUEST));
    expect(vmlaunch(r.vcpu).status).toBe('ok');
    expect(r.nested.state(r.vcpu).stats.nestedExits[C.EXIT_REASON_VMCALL]).toBe(1);
  });
});

describe('also fix: EPT, PML and unrestricted guest are not offered when L0 has them off', () => {
  it('an L1 reading the MSRs under ept=0 sees none of them, and enabling EPT anyway fails the entry', () => {
    const r = rig({ params: { ept: false } });
    const sec = high(r.vcpu.rdmsr(C.MSR_IA32_VMX_PROCBASED_CTLS2)!);
    expect(sec & (C.SECONDARY_EXEC_ENABLE_EPT | C.SECONDARY_EXEC_ENABLE_PML | C.SECONDARY_EXEC_UNRESTRICTED_GUEST)).toBe(0);
    expect(r.vcpu.rdmsr(C.MSR_IA32_VMX_EPT_VPID_CAP)! & 0xffff_ffffn).toBe(0n);
    l2Code(r.vcpu, [{ op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE, eptp: 0x50_001en });
    expect(vmlaunch(r.vcpu).status).toBe('fail-valid');
    expect(vmInstructionError(r.vcpu)).toBe(C.VMXERR_ENTRY_INVALID_CONTROL_FIELD);
  });

  it('the MSRs are read-only for L1 (KVM refuses host-side changes after the first run; L1 writes #GP)', () => {
    const r = rig();
    expect(r.vcpu.wrmsr(C.MSR_IA32_VMX_BASIC, 0n)).toBe(false);
    expect(r.vcpu.rdmsr(C.MSR_IA32_VMX_BASIC)).toBe(0x00d8_1000_11e5_7ed0n);
  });
});
