import { describe, expect, it } from 'vitest';
import { leBytes, readLe } from '../../src/bigint.js';
import { KvmError } from '../../src/errors.js';
import { createHypervisor } from '../../src/hypervisor.js';
import {
  invept, invvpid, vmclear, vmInstructionError, vmlaunch, vmptrld, vmptrst, vmread, vmreadz, vmresume, vmwrite, vmxoff, vmxon,
} from '../../src/x86/guest/vmx.js';
import { loadVmcs, prepareForVmxOperation, vmcsRevision } from '../../src/x86/guest/vmx-lib.js';
import { KVM_CAP_NESTED_STATE } from '../../src/x86/nested/kvm-constants.js';
import { VMCS12_OFFSET_LAUNCH_STATE, VMCS12_REVISION, VMCS12_SIZE } from '../../src/x86/nested/vmcs12-layout.js';
import * as F from '../../src/x86/vmcs-fields.js';
import * as C from '../../src/x86/vmx-constants.js';
import { l1WithVmcs, L2_CODE, l2Code, MIB, rig, VMCS_GPA, VMXON_GPA } from './rig.js';

const ALL_ONES = 0xffff_ffff_ffff_ffffn;

/** An L1 in VMX operation with a current, prepared vmcs12 at VMCS_GPA whose L2 does VMCALL. */
function l1() {
  const r = rig();
  l2Code(r.vcpu, [{ op: 'vmcall' }, { op: 'jmp-start' }]);
  l1WithVmcs(r.vcpu, { guestRip: L2_CODE });
  return r;
}

describe('VMX instructions without nested VMX, or before VMXON', () => {
  it('a hypervisor without the engine raises #UD for every instruction and has no KVM_CAP_NESTED_STATE', () => {
    const vm = createHypervisor({ arch: 'x86_64' }).createVm();
    const vcpu = vm.createVcpu(0);
    for (const insn of ['vmxon', 'vmclear', 'vmptrld', 'vmread', 'vmwrite', 'vmlaunch', 'invept'] as const) expect(vcpu.vmx(insn, 0n).fault).toBe('ud');
    expect(vm.checkExtension(KVM_CAP_NESTED_STATE)).toBe(0);
    expect(() => vcpu.getNestedState()).toThrow(KvmError);
    expect(vcpu.movToCr(4, vcpu.x86.cr4 | C.X86_CR4_VMXE)).toBe(false); // no VMX in CPUID: CR4.VMXE is reserved
    expect(vcpu.cpuid(1)[2] & BigInt(C.CPUID_1_ECX_VMX)).toBe(0n);
  });

  it('with the engine: CPUID.1:ECX.VMX and KVM_CAP_NESTED_STATE = the buffer size', () => {
    const r = rig();
    expect(r.vcpu.cpuid(1)[2] & BigInt(C.CPUID_1_ECX_VMX)).toBe(BigInt(C.CPUID_1_ECX_VMX));
    expect(r.vm.checkExtension(KVM_CAP_NESTED_STATE)).toBe(8320);
  });

  it('VMXON with CR4.VMXE clear is #UD; at CPL 3 #GP; without IA32_FEATURE_CONTROL locked+enabled #GP', () => {
    const r = rig();
    r.vcpu.write(VMXON_GPA, leBytes(4, BigInt(VMCS12_REVISION)));
    expect(vmxon(r.vcpu, VMXON_GPA).status).toBe('ud');
    expect(r.vcpu.movToCr(4, r.vcpu.x86.cr4 | C.X86_CR4_VMXE)).toBe(true);
    r.vcpu.x86.cpl = 3;
    expect(vmxon(r.vcpu, VMXON_GPA).status).toBe('gp');
    r.vcpu.x86.cpl = 0;
    expect(vmxon(r.vcpu, VMXON_GPA).status).toBe('gp'); // feature control still 0
    expect(r.vcpu.wrmsr(C.MSR_IA32_FEATURE_CONTROL, C.FEATURE_CONTROL_LOCKED | C.FEATURE_CONTROL_VMXON_ENABLED_OUTSIDE_SMX)).toBe(true);
    expect(vmxon(r.vcpu, VMXON_GPA).status).toBe('ok');
    // locked: L1 cannot change it any more
    expect(r.vcpu.wrmsr(C.MSR_IA32_FEATURE_CONTROL, 0n)).toBe(false);
  });

  it('CR4.VMXE cannot be cleared in VMX operation; CR0.PE/PG/NE are fixed to 1 there', () => {
    const r = rig();
    expect(prepareForVmxOperation(r.vcpu, VMXON_GPA)).toBe(true);
    expect(r.vcpu.movToCr(4, r.vcpu.x86.cr4 & ~C.X86_CR4_VMXE)).toBe(false);
    expect(r.vcpu.movToCr(0, r.vcpu.x86.cr0 & ~C.X86_CR0_NE)).toBe(false);
    expect(r.vcpu.x86.cr4 & C.X86_CR4_VMXE).toBe(C.X86_CR4_VMXE);
  });

  it('every instruction other than VMXON is #UD outside VMX operation, and #GP at CPL > 0 inside it', () => {
    const r = rig();
    for (const f of [() => vmptrld(r.vcpu, VMCS_GPA), () => vmread(r.vcpu, F.GUEST_RIP), () => vmlaunch(r.vcpu), () => vmxoff(r.vcpu)]) {
      expect(f().status).toBe('ud');
    }
    prepareForVmxOperation(r.vcpu, VMXON_GPA);
    r.vcpu.x86.cpl = 3;
    expect(vmptrld(r.vcpu, VMCS_GPA).status).toBe('gp');
    expect(vmxoff(r.vcpu).status).toBe('gp');
  });

  it('VMXON: a misaligned region or a wrong revision is VMfailInvalid (CF); a second VMXON VMfailValid 15 with a current VMCS', () => {
    const r = rig();
    r.vcpu.movToCr(4, r.vcpu.x86.cr4 | C.X86_CR4_VMXE);
    r.vcpu.wrmsr(C.MSR_IA32_FEATURE_CONTROL, 5n);
    expect(vmxon(r.vcpu, VMXON_GPA + 8n).status).toBe('fail-invalid');
    r.vcpu.write(VMXON_GPA, leBytes(4, 0x1234n));
    expect(vmxon(r.vcpu, VMXON_GPA).status).toBe('fail-invalid');
    expect(r.vcpu.x86.rflags & C.X86_EFLAGS_CF).toBe(C.X86_EFLAGS_CF);
    r.vcpu.write(VMXON_GPA, leBytes(4, vmcsRevision(r.vcpu)));
    expect(vmxon(r.vcpu, VMXON_GPA).status).toBe('ok');
    expect(r.vcpu.x86.rflags & (C.X86_EFLAGS_CF | C.X86_EFLAGS_ZF)).toBe(0n);
    expect(vmxon(r.vcpu, VMXON_GPA).status).toBe('fail-invalid'); // no current VMCS to hold an error number
    expect(loadVmcs(r.vcpu, VMCS_GPA)).toBe(true);
    expect(vmxon(r.vcpu, VMXON_GPA).status).toBe('fail-valid');
    expect(vmInstructionError(r.vcpu)).toBe(C.VMXERR_VMXON_IN_VMX_ROOT_OPERATION);
  });
});

describe('VMCLEAR, VMPTRLD, VMPTRST (handle_vmclear, handle_vmptrld, handle_vmptrst)', () => {
  it('VMPTRLD: misaligned → 9, the VMXON region → 10, a wrong revision → 11; VMCLEAR: misaligned → 2, VMXON region → 3', () => {
    const r = l1();
    const cases: [() => unknown, number][] = [
      [() => vmptrld(r.vcpu, VMCS_GPA + 0x10n), C.VMXERR_VMPTRLD_INVALID_ADDRESS],
      [() => vmptrld(r.vcpu, 1n << 50n), C.VMXERR_VMPTRLD_INVALID_ADDRESS], // beyond MAXPHYADDR
      [() => vmptrld(r.vcpu, VMXON_GPA), C.VMXERR_VMPTRLD_VMXON_POINTER],
      [() => (r.vcpu.write(0x5_0000n, leBytes(4, 0x42n)), vmptrld(r.vcpu, 0x5_0000n)), C.VMXERR_VMPTRLD_INCORRECT_VMCS_REVISION_ID],
      [() => vmclear(r.vcpu, VMCS_GPA + 0x800n), C.VMXERR_VMCLEAR_INVALID_ADDRESS],
      [() => vmclear(r.vcpu, VMXON_GPA), C.VMXERR_VMCLEAR_VMXON_POINTER],
    ];
    for (const [run, err] of cases) {
      run();
      expect(r.vcpu.x86.rflags & C.X86_EFLAGS_ZF, `error ${err}`).toBe(C.X86_EFLAGS_ZF);
      expect(vmInstructionError(r.vcpu)).toBe(err);
      expect(vmptrst(r.vcpu).value).toBe(VMCS_GPA); // the failures left the current VMCS alone
    }
  });

  it('also fix: VMPTRLD of aligned memory no slot backs fails with error 11 (unbacked reads are all ones), not 9', () => {
    const r = l1();
    const unbacked = 64n * MIB; // the slot ends at 16 MiB
    expect(vmptrld(r.vcpu, unbacked).status).toBe('fail-valid');
    expect(vmInstructionError(r.vcpu)).toBe(C.VMXERR_VMPTRLD_INCORRECT_VMCS_REVISION_ID);
    expect(vmptrst(r.vcpu).value).toBe(VMCS_GPA);
  });

  it('also fix: VMCLEAR of aligned memory no slot backs succeeds (the launch-state write goes nowhere)', () => {
    const r = l1();
    expect(vmclear(r.vcpu, 64n * MIB).status).toBe('ok');
    expect(vmptrst(r.vcpu).value).toBe(VMCS_GPA); // another pointer: the current VMCS stays
  });

  it('VMPTRST: the current pointer, all ones without one; VMCLEAR of the current VMCS makes it none', () => {
    const r = l1();
    expect(vmptrst(r.vcpu)).toMatchObject({ status: 'ok', value: VMCS_GPA });
    expect(vmclear(r.vcpu, VMCS_GPA).status).toBe('ok');
    expect(vmptrst(r.vcpu).value).toBe(ALL_ONES);
    expect(vmread(r.vcpu, F.GUEST_RIP).status).toBe('fail-invalid');
  });

  it('VMCLEAR flushes the cached vmcs12 to L1’s memory and writes launch_state = 0 there', () => {
    const r = l1();
    expect(vmlaunch(r.vcpu).status).toBe('ok'); // launched now
    expect(readLe(r.vcpu.read(VMCS_GPA + BigInt(VMCS12_OFFSET_LAUNCH_STATE), 4), 0, 4)).toBe(0n); // cached, not yet flushed
    const cached = r.nested.vmcs12At(r.vcpu, VMCS_GPA)!.bytes.slice();
    expect(vmclear(r.vcpu, VMCS_GPA).status).toBe('ok');
    const mem = r.vm.memory.read(VMCS_GPA, VMCS12_SIZE);
    expect(readLe(mem, VMCS12_OFFSET_LAUNCH_STATE, 4)).toBe(0n);
    cached.set(leBytes(4, 0n), VMCS12_OFFSET_LAUNCH_STATE);
    expect(mem).toEqual(cached);
    expect(readLe(mem, 432, 8)).toBe(r.vcpu.x86.cr3); // guest_cr3 at its struct offset
  });

  it('the current vmcs12 is cached: L1 stores into its region are not seen until it is loaded again', () => {
    const r = l1();
    r.vcpu.write(VMCS_GPA + 432n, leBytes(8, 0xdead000n)); // guest_cr3 behind KVM's back
    expect(vmreadz(r.vcpu, F.GUEST_CR3)).not.toBe(0xdead000n);
    expect(loadVmcs(r.vcpu, 0x6_0000n)).toBe(true); // releases (and flushes) the first
    expect(vmptrld(r.vcpu, VMCS_GPA).status).toBe('ok');
    expect(vmreadz(r.vcpu, F.GUEST_CR3)).not.toBe(0xdead000n); // the flush overwrote the store
  });

  it('also fix: VMPTRLD of another vmcs12 frees guest_mmu’s roots (nested_release_vmcs12); of the current one it does not', () => {
    const r = rig();
    // an L2 with EPT so that guest_mmu gets a root: an identity EPT12 for the first 2 MiB
    const eptp = buildIdentityEpt(r, 0x70_0000n);
    l2Code(r.vcpu, [{ op: 'vmcall' }, { op: 'jmp-start' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE, eptp });
    expect(vmlaunch(r.vcpu).status).toBe('ok');
    const nv = r.nested.state(r.vcpu);
    expect(nv.guestMmu.root).not.toBeNull();
    expect(vmptrld(r.vcpu, VMCS_GPA).status).toBe('ok');
    expect(nv.guestMmu.root).not.toBeNull();
    expect(loadVmcs(r.vcpu, 0x6_0000n)).toBe(true);
    expect(nv.guestMmu.root).toBeNull();
    expect(nv.guestMmu.prevRoots.every((p) => p === null)).toBe(true);
  });
});

/** A 4-level identity EPT12 mapping the first 16 MiB with 2 MiB pages, in L1's memory at `base`; returns EPTP12 (WB, 4-level, A/D). */
function buildIdentityEpt(r: ReturnType<typeof rig>, base: bigint): bigint {
  const pml4 = base;
  const pdpt = base + 0x1000n;
  const pd = base + 0x2000n;
  r.vcpu.write(pml4, leBytes(8, pdpt | 7n));
  r.vcpu.write(pdpt, leBytes(8, pd | 7n));
  for (let i = 0n; i < 8n; i++) r.vcpu.write(pd + i * 8n, leBytes(8, ((i << 21n) | 0x80n | 7n | (6n << 3n))));
  return pml4 | 6n | (3n << 3n) | (1n << 6n);
}

describe('VMREAD / VMWRITE (handle_vmread, handle_vmwrite, vmcs12_{read,write}_any)', () => {
  it('without a current VMCS: VMfailInvalid; an encoding KVM has no field for: VMfailValid 12', () => {
    const r = l1();
    for (const f of [0x1000, F.PLE_GAP, F.TSC_MULTIPLIER, 0x6c18]) {
      expect(vmread(r.vcpu, f).status).toBe('fail-valid');
      expect(vmInstructionError(r.vcpu)).toBe(C.VMXERR_UNSUPPORTED_VMCS_COMPONENT);
      expect(vmwrite(r.vcpu, f, 1n).status).toBe('fail-valid');
      expect(vmInstructionError(r.vcpu)).toBe(C.VMXERR_UNSUPPORTED_VMCS_COMPONENT);
    }
  });

  it('widths: a 16-bit field keeps 16 bits, a 32-bit one 32; a _HIGH access is the upper half of its 64-bit field', () => {
    const r = l1();
    vmwrite(r.vcpu, F.GUEST_PML_INDEX, 0x1_2345n);
    expect(vmreadz(r.vcpu, F.GUEST_PML_INDEX)).toBe(0x2345n);
    vmwrite(r.vcpu, F.GUEST_ACTIVITY_STATE, 0x1_0000_0001n);
    expect(vmreadz(r.vcpu, F.GUEST_ACTIVITY_STATE)).toBe(1n);
    vmwrite(r.vcpu, F.TSC_OFFSET, 0x1111_2222_3333_4444n);
    expect(vmreadz(r.vcpu, F.TSC_OFFSET_HIGH)).toBe(0x1111_2222n);
    vmwrite(r.vcpu, F.TSC_OFFSET_HIGH, 0xaaaa_bbbb_cccc_ddddn);
    expect(vmreadz(r.vcpu, F.TSC_OFFSET)).toBe(0xcccc_dddd_3333_4444n);
  });

  it('outside 64-bit mode the field encoding and the value are 32 bits', () => {
    const r = l1();
    vmwrite(r.vcpu, F.GUEST_RSP, 0x1234_5678_9abc_def0n);
    r.vcpu.x86.longMode = false;
    expect(vmreadz(r.vcpu, F.GUEST_RSP)).toBe(0x9abc_def0n);
    expect(vmread(r.vcpu, (1n << 32n) | BigInt(F.GUEST_RSP)).status).toBe('ok'); // upper half of the operand ignored
    r.vcpu.x86.longMode = true;
    expect(vmread(r.vcpu, (1n << 32n) | BigInt(F.GUEST_RSP)).status).toBe('fail-valid');
  });

  it('VMWRITE to a read-only exit-information field succeeds: VMX_MISC offers "VMWRITE to any field" (5.3/5.4)', () => {
    const r = l1();
    expect(r.nested.msrs.miscLow & C.MSR_IA32_VMX_MISC_VMWRITE_SHADOW_RO_FIELDS).not.toBe(0);
    expect(vmwrite(r.vcpu, F.VM_EXIT_REASON, 0x34n).status).toBe('ok');
    expect(vmreadz(r.vcpu, F.VM_EXIT_REASON)).toBe(0x34n);
    expect(vmwrite(r.vcpu, F.GUEST_PHYSICAL_ADDRESS, 0xabc000n).status).toBe('ok');
    expect(vmreadz(r.vcpu, F.GUEST_PHYSICAL_ADDRESS)).toBe(0xabc000n);
  });

  it('segment AR bytes lose their reserved bits on VMWRITE', () => {
    const r = l1();
    vmwrite(r.vcpu, F.GUEST_CS_AR_BYTES, 0xffff_ffffn);
    expect(vmreadz(r.vcpu, F.GUEST_CS_AR_BYTES)).toBe(0x1f0ffn);
  });

  it('success clears the arithmetic flags L1 had set; failure sets exactly CF or ZF', () => {
    const r = l1();
    r.vcpu.x86.rflags |= C.X86_EFLAGS_CF | C.X86_EFLAGS_ZF | C.X86_EFLAGS_SF;
    vmread(r.vcpu, F.GUEST_RIP);
    expect(r.vcpu.x86.rflags & (C.X86_EFLAGS_CF | C.X86_EFLAGS_ZF | C.X86_EFLAGS_SF)).toBe(0n);
    vmread(r.vcpu, 0x1000);
    expect(r.vcpu.x86.rflags & (C.X86_EFLAGS_CF | C.X86_EFLAGS_ZF)).toBe(C.X86_EFLAGS_ZF);
  });
});

describe('VMLAUNCH / VMRESUME state errors, INVEPT / INVVPID, VMXOFF', () => {
  it('VMLAUNCH of a launched VMCS → 4; VMRESUME of a clear one → 5; without a current VMCS → CF', () => {
    const r = l1();
    expect(vmresume(r.vcpu).status).toBe('fail-valid');
    expect(vmInstructionError(r.vcpu)).toBe(C.VMXERR_VMRESUME_NONLAUNCHED_VMCS);
    expect(vmlaunch(r.vcpu).status).toBe('ok');
    expect(vmreadz(r.vcpu, F.VM_EXIT_REASON)).toBe(BigInt(C.EXIT_REASON_VMCALL));
    expect(vmlaunch(r.vcpu).status).toBe('fail-valid');
    expect(vmInstructionError(r.vcpu)).toBe(C.VMXERR_VMLAUNCH_NONCLEAR_VMCS);
    vmclear(r.vcpu, VMCS_GPA);
    expect(vmlaunch(r.vcpu).status).toBe('fail-invalid');
  });

  it('INVEPT: an extent not offered → 28; with EPT off → #UD; all-context and single-context succeed', () => {
    const r = l1();
    expect(invept(r.vcpu, C.VMX_EPT_EXTENT_GLOBAL).status).toBe('ok');
    expect(invept(r.vcpu, C.VMX_EPT_EXTENT_CONTEXT, 0x70_001en).status).toBe('ok');
    expect(invept(r.vcpu, 0).status).toBe('fail-valid');
    expect(vmInstructionError(r.vcpu)).toBe(C.VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID);
    expect(invept(r.vcpu, 99).status).toBe('fail-valid');
    const noEpt = rig({ params: { ept: false } });
    prepareForVmxOperation(noEpt.vcpu, VMXON_GPA);
    expect(invept(noEpt.vcpu).status).toBe('ud');
  });

  it('INVVPID: VPID 0 for individual-address or single-context → 28; a VPID over 16 bits → 28; all-context ok', () => {
    const r = l1();
    expect(invvpid(r.vcpu, C.VMX_VPID_EXTENT_ALL_CONTEXT).status).toBe('ok');
    expect(invvpid(r.vcpu, C.VMX_VPID_EXTENT_SINGLE_CONTEXT, 0n).status).toBe('fail-valid');
    expect(invvpid(r.vcpu, C.VMX_VPID_EXTENT_INDIVIDUAL_ADDR, 1n, 0x8000_0000_0000n).status).toBe('fail-valid'); // non-canonical
    expect(invvpid(r.vcpu, C.VMX_VPID_EXTENT_INDIVIDUAL_ADDR, 1n, 0x1000n).status).toBe('ok');
    expect(invvpid(r.vcpu, C.VMX_VPID_EXTENT_SINGLE_CONTEXT, 0x1_0000n).status).toBe('fail-valid');
    expect(vmInstructionError(r.vcpu)).toBe(C.VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID);
    const noVpid = rig({ params: { vpid: false } });
    prepareForVmxOperation(noVpid.vcpu, VMXON_GPA);
    expect(invvpid(noVpid.vcpu).status).toBe('ud');
  });

  it('VMXOFF leaves VMX operation: the next VMREAD is #UD and VMXON works again', () => {
    const r = l1();
    expect(vmxoff(r.vcpu).status).toBe('ok');
    expect(vmread(r.vcpu, F.GUEST_RIP).status).toBe('ud');
    expect(r.nested.state(r.vcpu).vmxon).toBe(false);
    expect(vmxon(r.vcpu, VMXON_GPA).status).toBe('ok');
    expect(vmptrst(r.vcpu).value).toBe(ALL_ONES);
  });
});

describe('the instruction boundary itself', () => {
  it('each instruction is one exit: counted by reason, and it costs the engine’s exit cost in virtual time', () => {
    const r = l1();
    const nv = r.nested.state(r.vcpu);
    const before = { reads: nv.stats.exits[C.EXIT_REASON_VMREAD] ?? 0, t: r.hv.sim.now };
    vmread(r.vcpu, F.GUEST_RIP);
    vmread(r.vcpu, F.GUEST_RSP);
    expect(nv.stats.exits[C.EXIT_REASON_VMREAD]).toBe(before.reads + 2);
    expect(r.hv.sim.now - before.t).toBe(2n * r.nested.state(r.vcpu).engine.exitCostNs);
  });

  it('bad calls are typed errors that change nothing: an unknown instruction, a non-bigint operand', () => {
    const r = l1();
    const snapshot = r.vcpu.getNestedState();
    expect(() => r.vcpu.vmx('vmfunc' as never)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    expect(() => r.vcpu.vmx('vmread', 1 as never)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    expect(r.vcpu.getNestedState()).toEqual(snapshot);
  });

  it('the engine refuses a vCPU of another hypervisor (EINVAL), creating no nested state for it', () => {
    const a = rig();
    const b = rig();
    expect(() => a.nested.state(b.vcpu)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    expect(() => a.nested.setSregs(b.vcpu, { cr3: 0x1000n })).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    expect(() => a.nested.raiseInterrupt(b.vcpu, 0x30, a.hv.sim.now)).toThrow(expect.objectContaining({ errno: 'EINVAL' }));
    expect(b.nested.state(b.vcpu).scheduledIrqs).toHaveLength(0);
    expect(b.vcpu.x86.cr3).toBe(0x10_0000n);
  });

  it('re-entering L1 after an instruction exit reads no CR3 from vmcs01 while the MMU root is valid (kvm_mmu_reload returns early)', () => {
    const r = rig();
    prepareForVmxOperation(r.vcpu, VMXON_GPA);
    const nv = r.nested.state(r.vcpu);
    nv.vmcs01.resetCounts();
    vmptrst(r.vcpu);
    expect(nv.vmcs01.countsOf(F.GUEST_CR3)).toEqual({ vmreads: 0, vmwrites: 0 });
  });

  it('a VMX instruction while the vCPU is in guest mode (from a VMM exit handler) is EBUSY', () => {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'in', port: 0x80 }, { op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE });
    const seen: unknown[] = [];
    r.vm.onIo = (vcpu) => {
      try {
        vmread(vcpu, F.GUEST_RIP);
      } catch (e) {
        seen.push(e);
      }
    };
    expect(vmlaunch(r.vcpu).status).toBe('ok');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(KvmError);
    expect((seen[0] as KvmError).errno).toBe('EBUSY');
    expect(vmreadz(r.vcpu, F.VM_EXIT_REASON)).toBe(BigInt(C.EXIT_REASON_VMCALL)); // L2 went on to its VMCALL
  });
});
