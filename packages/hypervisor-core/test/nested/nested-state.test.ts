import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { leBytes, readLe, writeLe } from '../../src/bigint.js';
import { KvmError } from '../../src/errors.js';
import type { Vcpu } from '../../src/vcpu/vcpu.js';
import { vmlaunch, vmreadz, vmresume, vmwrite } from '../../src/x86/guest/vmx.js';
import { loadVmcs, prepareForVmxOperation } from '../../src/x86/guest/vmx-lib.js';
import * as K from '../../src/x86/nested/kvm-constants.js';
import type { NvmxOps } from '../../src/x86/nested/shapes.js';
import { VMCS12_REVISION } from '../../src/x86/nested/vmcs12-layout.js';
import * as F from '../../src/x86/vmcs-fields.js';
import * as C from '../../src/x86/vmx-constants.js';
import { l1WithVmcs, L2_CODE, l2Code, L2_DATA, rig, VMCS_GPA, VMXON_GPA, type Rig } from './rig.js';

const NONE = 0xffff_ffff_ffff_ffffn;
const HDR = K.KVM_NESTED_STATE_HEADER_SIZE;
const header = (b: Uint8Array) => ({
  flags: Number(readLe(b, 0, 2)), format: Number(readLe(b, 2, 2)), size: Number(readLe(b, 4, 4)),
  vmxonPa: readLe(b, 8, 8), vmcs12Pa: readLe(b, 16, 8),
});

/** A plugin's prepareVmcs02Cr3 that makes vmcs02.GUEST_CR3 right at every nested VM-Enter (the shape of v2 1/8). */
const WRITE_GUEST_CR3: Partial<NvmxOps> = { prepareVmcs02Cr3: (nv, v12) => void nv.vmcs02.vmwrite(F.GUEST_CR3, v12.get(F.GUEST_CR3)) };

/** The pages a migration would carry for these tests: the VMXON region, the vmcs12, L2's code and data. */
function copyPages(from: Rig, to: Rig): void {
  for (const gpa of [VMXON_GPA, VMCS_GPA, L2_CODE, L2_DATA]) to.vm.memory.write(gpa, from.vm.memory.read(gpa, 0x1000));
}

/** A fresh VM to restore into: same memory layout, same L1 control registers, nothing nested yet. */
const freshLike = (ops: Partial<NvmxOps> = {}): Rig => rig({ ops });

/** An L1 whose L2 did `in 0x80` (not intercepted): the VMM’s exit handler sees the vCPU in guest mode and saves it. */
function savedInGuestMode(ops: Partial<NvmxOps> = {}, guestCr3 = 0xa000n, extra: Partial<Record<number, bigint>> = {}) {
  const r = rig({ ops });
  l2Code(r.vcpu, [{ op: 'store', gpa: L2_DATA, value: 7n }, { op: 'in', port: 0x80 }, { op: 'store', gpa: L2_DATA, value: 8n }, { op: 'vmcall' }]);
  l1WithVmcs(r.vcpu, { guestRip: L2_CODE, guestCr3 });
  for (const [f, v] of Object.entries(extra)) vmwrite(r.vcpu, Number(f), v!);
  let saved: Uint8Array | undefined;
  r.vm.onIo = (vcpu) => void (saved ??= vcpu.getNestedState());
  vmlaunch(r.vcpu);
  return { r, saved: saved! };
}

describe('KVM_GET_NESTED_STATE (vmx_get_nested_state, v5.4)', () => {
  it('outside VMX operation: just the header, vmxon_pa = vmcs12_pa = -1, size 128', () => {
    const r = rig();
    const b = r.vcpu.getNestedState();
    expect(b).toHaveLength(K.KVM_NESTED_STATE_MAX_SIZE);
    expect(header(b)).toEqual({ flags: 0, format: 0, size: HDR, vmxonPa: NONE, vmcs12Pa: NONE });
  });

  it('in VMX operation without a current VMCS: size 128 with vmxon_pa; with one: + the 4 KiB vmcs12 area', () => {
    const r = rig();
    prepareForVmxOperation(r.vcpu, VMXON_GPA);
    expect(header(r.vcpu.getNestedState())).toEqual({ flags: 0, format: 0, size: HDR, vmxonPa: VMXON_GPA, vmcs12Pa: NONE });
    loadVmcs(r.vcpu, VMCS_GPA);
    const b = r.vcpu.getNestedState();
    expect(header(b)).toEqual({ flags: 0, format: 0, size: HDR + 0x1000, vmxonPa: VMXON_GPA, vmcs12Pa: VMCS_GPA });
    expect(Number(readLe(b, HDR, 4))).toBe(VMCS12_REVISION);
  });

  it('in guest mode: the GUEST_MODE flag, and vmcs12 as vmcs02 has it now (synced before the copy)', () => {
    const { saved } = savedInGuestMode();
    expect(header(saved).flags).toBe(K.KVM_STATE_NESTED_GUEST_MODE);
    // GUEST_RIP in the saved vmcs12 is L2’s current RIP, not the entry RIP L1 wrote
    expect(readLe(saved, HDR + 544, 8)).toBe(L2_CODE + 28n); // store (23 bytes), MOV EDX (5): RIP is on the IN
  });

  it('a buffer whose size field is too small: E2BIG, and the size KVM needs is written back', () => {
    const r = rig();
    prepareForVmxOperation(r.vcpu, VMXON_GPA);
    loadVmcs(r.vcpu, VMCS_GPA);
    const small = new Uint8Array(HDR);
    writeLe(small, 4, 4, BigInt(HDR));
    expect(() => r.vcpu.getNestedState(small)).toThrow(expect.objectContaining({ errno: 'E2BIG' }));
    expect(header(small).size).toBe(HDR + 0x1000);
    // a size field larger than the buffer: EFAULT (copy_to_user would run off the end)
    const lying = new Uint8Array(HDR + 10);
    writeLe(lying, 4, 4, BigInt(K.KVM_NESTED_STATE_MAX_SIZE));
    expect(() => r.vcpu.getNestedState(lying)).toThrow(expect.objectContaining({ errno: 'EFAULT' }));
  });
});

describe('KVM_SET_NESTED_STATE into a fresh VM (vmx_set_nested_state, v5.4)', () => {
  it('outside guest mode the state round-trips byte for byte', () => {
    const a = rig();
    l2Code(a.vcpu, [{ op: 'vmcall' }]);
    l1WithVmcs(a.vcpu, { guestRip: L2_CODE, guestCr3: 0xa000n });
    vmlaunch(a.vcpu);
    const saved = a.vcpu.getNestedState();
    const b = freshLike();
    copyPages(a, b);
    b.vcpu.setNestedState(saved);
    expect(b.vcpu.getNestedState()).toEqual(saved);
    // and B’s L1 carries on: the vmcs12 is current and launched
    vmwrite(b.vcpu, F.GUEST_RIP, vmreadz(b.vcpu, F.GUEST_RIP)); // no-op write
    expect(vmresume(b.vcpu).status).toBe('ok');
    expect(Number(vmreadz(b.vcpu, F.VM_EXIT_REASON))).toBe(C.EXIT_REASON_VMCALL);
  });

  it('in guest mode, with a hook that writes vmcs02.GUEST_CR3 on entry, it round-trips byte for byte and L2 resumes', () => {
    const { r: a, saved } = savedInGuestMode(WRITE_GUEST_CR3);
    const b = freshLike(WRITE_GUEST_CR3);
    copyPages(a, b);
    b.vcpu.setNestedState(saved);
    expect(b.vcpu.x86.guestMode).toBe(true);
    expect(b.vcpu.getNestedState()).toEqual(saved);
    expect(b.nested.runNested(b.vcpu)).toBe(true); // KVM_RUN: L2 re-executes its IN, stores 8, exits on VMCALL
    expect(b.vm.memory.readU64(L2_DATA)).toBe(8n);
    expect(Number(vmreadz(b.vcpu, F.VM_EXIT_REASON))).toBe(C.EXIT_REASON_VMCALL);
    expect(vmreadz(b.vcpu, F.GUEST_CR3)).toBe(0xa000n);
  });

  it('in guest mode with the engine’s own 5.3/5.4 GUEST_CR3 handling, a state saved before the next KVM_RUN carries a stale GUEST_CR3', () => {
    const { r: a, saved } = savedInGuestMode({}, 0xa000n);
    expect(readLe(saved, HDR + 432, 8)).toBe(0xa000n); // A had run L2: its vmcs02 was right
    const b = freshLike();
    copyPages(a, b);
    b.vcpu.setNestedState(saved);
    const again = b.vcpu.getNestedState();
    // prepare_vmcs02 left vmcs02.GUEST_CR3 to vmx_set_cr3() at the next entry, which has not happened
    expect(readLe(again, HDR + 432, 8)).not.toBe(0xa000n);
    const fixed = again.slice();
    fixed.set(leBytes(8, 0xa000n), HDR + 432);
    expect(fixed).toEqual(saved); // nothing else differs
    // KVM_RUN repairs it: the entry writes GUEST_CR3 from vcpu->arch.cr3
    b.nested.runNested(b.vcpu);
    expect(vmreadz(b.vcpu, F.GUEST_CR3)).toBe(0xa000n);
  });

  test.prop([
    fc.record({
      cr3: fc.bigInt({ min: 1n, max: (1n << 34n) - 1n }).map((v) => v << 12n),
      rsp: fc.bigInt({ min: 0n, max: (1n << 47n) - 1n }),
      rflagsIf: fc.boolean(),
      tscOffset: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      exceptionBitmap: fc.bigInt({ min: 0n, max: 0xffff_ffffn }),
      vpid: fc.bigInt({ min: 0n, max: 0xffffn }),
      pmlIndex: fc.bigInt({ min: 0n, max: 511n }),
      inGuestMode: fc.boolean(),
    }),
  ], { numRuns: 40, seed: 13 })('GET → SET into a fresh VM → GET is the identity, in and out of guest mode', (p) => {
    const extra = { [F.GUEST_RSP]: p.rsp, [F.TSC_OFFSET]: p.tscOffset, [F.EXCEPTION_BITMAP]: p.exceptionBitmap, [F.VIRTUAL_PROCESSOR_ID]: p.vpid,
      [F.GUEST_PML_INDEX]: p.pmlIndex, [F.GUEST_RFLAGS]: C.X86_EFLAGS_FIXED | (p.rflagsIf ? C.X86_EFLAGS_IF : 0n) };
    let a: Rig;
    let saved: Uint8Array;
    if (p.inGuestMode) ({ r: a, saved } = savedInGuestMode(WRITE_GUEST_CR3, p.cr3, extra));
    else {
      a = rig({ ops: WRITE_GUEST_CR3 });
      l2Code(a.vcpu, [{ op: 'vmcall' }]);
      l1WithVmcs(a.vcpu, { guestRip: L2_CODE, guestCr3: p.cr3 });
      for (const [f, v] of Object.entries(extra)) vmwrite(a.vcpu, Number(f), v);
      saved = a.vcpu.getNestedState();
    }
    expect(header(saved).flags).toBe(p.inGuestMode ? K.KVM_STATE_NESTED_GUEST_MODE : 0);
    const b = freshLike(WRITE_GUEST_CR3);
    copyPages(a, b);
    b.vcpu.setNestedState(saved);
    expect(b.vcpu.getNestedState()).toEqual(saved);
  });
});

describe('KVM_SET_NESTED_STATE refuses bad buffers with the kernel’s errno and leaves the vCPU as it was', () => {
  /** A target in guest mode, its L2 halted for good (so that a refusal that changed anything would show). */
  function target(): { r: Rig; before: Uint8Array; vcpu: Vcpu } {
    const r = rig({ ops: WRITE_GUEST_CR3 });
    l2Code(r.vcpu, [{ op: 'store', gpa: L2_DATA, value: 3n }, { op: 'hlt' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE, guestCr3: 0xb000n });
    expect(vmlaunch(r.vcpu).hung).toBe(true);
    expect(r.vcpu.x86.guestMode).toBe(true);
    return { r, vcpu: r.vcpu, before: r.vcpu.getNestedState() };
  }
  const good = () => savedInGuestMode(WRITE_GUEST_CR3).saved;
  const mutate = (f: (b: Uint8Array) => void) => {
    const b = good().slice();
    f(b);
    return b;
  };

  const cases: [string, () => Uint8Array, string][] = [
    ['size below the header', () => mutate((b) => writeLe(b, 4, 4, 64n)), 'EINVAL'],
    ['an unknown flag', () => mutate((b) => writeLe(b, 0, 2, 0x8n | 1n)), 'EINVAL'],
    ['RUN_PENDING without GUEST_MODE', () => mutate((b) => writeLe(b, 0, 2, 2n)), 'EINVAL'],
    ['format 1 (SVM)', () => mutate((b) => writeLe(b, 2, 2, 1n)), 'EINVAL'],
    ['vmxon_pa not page aligned', () => mutate((b) => writeLe(b, 8, 8, VMXON_GPA + 4n)), 'EINVAL'],
    ['vmcs12_pa = vmxon_pa', () => mutate((b) => writeLe(b, 16, 8, VMXON_GPA)), 'EINVAL'],
    ['vmcs12_pa = -1 with a vmcs12 area', () => mutate((b) => writeLe(b, 16, 8, NONE)), 'EINVAL'],
    ['a wrong vmcs12 revision', () => mutate((b) => writeLe(b, HDR, 4, 0x1234n)), 'EINVAL'],
    ['outside VMX operation but with a vmcs12_pa', () => mutate((b) => (writeLe(b, 8, 8, NONE), writeLe(b, 0, 2, 0n))), 'EINVAL'],
    ['SMM flags (the vCPU is not in SMM)', () => mutate((b) => writeLe(b, 24, 2, 2n)), 'EINVAL'],
    ['enlightened VMCS (not enabled)', () => mutate((b) => writeLe(b, 0, 2, 4n | 1n)), 'EINVAL'],
    ['guest mode with a vmcs12 that fails the entry checks (pin default1 bits cleared)', () => mutate((b) => writeLe(b, HDR + 744, 4, 0n)), 'EINVAL'],
    ['guest mode with a bad activity state', () => mutate((b) => writeLe(b, HDR + 916, 4, 3n)), 'EINVAL'],
    ['a header the buffer cannot hold', () => new Uint8Array(16), 'EFAULT'],
    ['a size the buffer cannot hold', () => good().slice(0, HDR + 100), 'EFAULT'],
  ];

  for (const [name, buf, errno] of cases) {
    it(`${name} → ${errno}`, () => {
      const t = target();
      const b = buf();
      let err: unknown;
      try {
        t.vcpu.setNestedState(b);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KvmError);
      expect((err as KvmError).errno).toBe(errno);
      expect(t.vcpu.x86.guestMode).toBe(true);
      expect(t.vcpu.getNestedState()).toEqual(t.before);
    });
  }

  it('a size too small for vmcs12 is the empty "VMXON" state (5.4 accepts it): in VMX operation, no current VMCS', () => {
    const t = target();
    const b = good().slice(0, HDR);
    writeLe(b, 4, 4, BigInt(HDR));
    writeLe(b, 0, 2, 0n);
    t.vcpu.setNestedState(b);
    expect(t.vcpu.x86.guestMode).toBe(false);
    expect(header(t.vcpu.getNestedState())).toEqual({ flags: 0, format: 0, size: HDR, vmxonPa: VMXON_GPA, vmcs12Pa: NONE });
  });

  test.prop([fc.integer({ min: 0, max: HDR + 1000 - 1 }), fc.integer({ min: 0, max: 255 })], { numRuns: 60, seed: 7 })(
    'a SET with one corrupted byte either succeeds or fails with a KvmError and changes nothing',
    (offset, value) => {
      const t = target();
      const b = good().slice();
      b[offset] = value;
      try {
        t.vcpu.setNestedState(b);
      } catch (e) {
        expect(e).toBeInstanceOf(KvmError);
        expect(t.vcpu.getNestedState()).toEqual(t.before);
        return;
      }
      // accepted: the vCPU now holds exactly what the buffer described
      const after = t.vcpu.getNestedState();
      expect(header(after).vmxonPa).toBe(readLe(b, 8, 8));
    },
  );
});
