import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { leBytes } from '../../src/bigint.js';
import { assemble, type AsmLine } from '../../src/x86/guest/assembler.js';
import * as program from '../../src/x86/guest/program.js';
import { vmlaunch, vmreadz, vmresume } from '../../src/x86/guest/vmx.js';
import { decodeX86, OPC_HLT, OPC_VMCALL } from '../../src/x86/isa.js';
import * as F from '../../src/x86/vmcs-fields.js';
import * as C from '../../src/x86/vmx-constants.js';
import { l1WithVmcs, L2_CODE, l2Code, rig } from './rig.js';

/** Decodes a whole byte string into instructions. */
function decodeAll(bytes: Uint8Array) {
  const out = [];
  for (let at = 0; at < bytes.length;) {
    const insn = decodeX86(bytes.subarray(at));
    out.push(insn);
    at += insn.len;
  }
  return out;
}

const asmLine: fc.Arbitrary<AsmLine> = fc.oneof(
  fc.constant<AsmLine>({ op: 'hlt' }),
  fc.constant<AsmLine>({ op: 'vmcall' }),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((value): AsmLine => ({ op: 'mov-cr3', value })),
  fc.integer({ min: 0, max: 0x7fff_ffff }).map((ns): AsmLine => ({ op: 'work', ns })),
  fc.record({ gpa: fc.bigInt({ min: 0n, max: (1n << 52n) - 1n }), value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) }).map((r): AsmLine => ({ op: 'store', ...r })),
  fc.bigInt({ min: 0n, max: (1n << 52n) - 1n }).map((gpa): AsmLine => ({ op: 'inc', gpa })),
  fc.integer({ min: 0, max: 0xffff }).map((port): AsmLine => ({ op: 'in', port })),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((value): AsmLine => ({ op: 'add-rdi', value })),
);

describe('the L2 instruction set (Intel SDM vol. 2 encodings)', () => {
  it('the encodings are the real ones', () => {
    expect([...OPC_HLT]).toEqual([0xf4]);
    expect([...OPC_VMCALL]).toEqual([0x0f, 0x01, 0xc1]);
    expect([...assemble([{ op: 'store', gpa: 0x1000n, value: 5n }])]).toEqual([
      0x48, 0xbf, 0, 0x10, 0, 0, 0, 0, 0, 0, // MOV RDI, 0x1000
      0x48, 0xb8, 5, 0, 0, 0, 0, 0, 0, 0, // MOV RAX, 5
      0x48, 0x89, 0x07, // MOV [RDI], RAX
    ]);
    expect([...assemble([{ op: 'in', port: 0x1234 }])]).toEqual([0xba, 0x34, 0x12, 0, 0, 0xec]);
    expect([...assemble([{ op: 'mov-cr3', value: 0n }]).subarray(10)]).toEqual([0x0f, 0x22, 0xd8]);
    expect(decodeX86(new Uint8Array([0x0f, 0x0b])).op).toBe('invalid'); // UD2 is not in the model's set
  });

  test.prop([fc.array(asmLine, { maxLength: 20 })])('decode(assemble(program)) gives back every instruction, with its operands and length', (lines) => {
    const insns = decodeAll(assemble(lines));
    const ops = insns.map((i) => i.op);
    const expected = lines.flatMap((l) => ({
      hlt: ['hlt'], vmcall: ['vmcall'], 'mov-cr3': ['mov-rax-imm', 'mov-cr3-rax'], work: ['work'], store: ['mov-rdi-imm', 'mov-rax-imm', 'store-rdi-rax'],
      inc: ['mov-rdi-imm', 'inc-mrdi'], in: ['mov-edx-imm', 'in-al-dx'], 'add-rdi': ['add-rdi-imm'],
    } as Record<string, string[]>)[l.op]!);
    expect(ops).toEqual(expected);
    let k = 0;
    for (const l of lines) {
      const first = insns[k]!;
      if (l.op === 'store' || l.op === 'inc') expect(first).toMatchObject({ op: 'mov-rdi-imm', imm: l.gpa });
      if (l.op === 'mov-cr3') expect(first).toMatchObject({ imm: l.value });
      if (l.op === 'work') expect(first).toMatchObject({ ns: BigInt(l.ns) });
      if (l.op === 'add-rdi') expect(first).toMatchObject({ imm: BigInt(l.value) }); // imm32, sign-extended
      if (l.op === 'in') expect(first).toMatchObject({ imm: BigInt(l.port) });
      k += ({ hlt: 1, vmcall: 1, 'mov-cr3': 2, work: 1, store: 3, inc: 2, in: 2, 'add-rdi': 1 } as Record<string, number>)[l.op]!;
    }
  });
});

describe('the L2 processor', () => {
  it('an invalid opcode ends L2 with a triple fault (no IDT is modelled), reflected to L1 as exit 2', () => {
    const r = rig();
    r.vcpu.write(L2_CODE, new Uint8Array([0x0f, 0x0b]));
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE });
    vmlaunch(r.vcpu);
    expect(Number(vmreadz(r.vcpu, F.VM_EXIT_REASON))).toBe(C.EXIT_REASON_TRIPLE_FAULT);
  });

  it('a JMP back to the start with nothing else is an endless loop: with no wake source VMLAUNCH reports hung', () => {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'work', ns: 10 }, { op: 'jmp-start' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE });
    expect(vmlaunch(r.vcpu).hung).toBe(true);
  });

  it('a spinning L2 is interrupted by a host event: the preemption timer gets L1 back', () => {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'work', ns: 10 }, { op: 'jmp-start' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE, pin: C.PIN_BASED_VMX_PREEMPTION_TIMER, preemptionTimer: 50_000n });
    expect(vmlaunch(r.vcpu)).toMatchObject({ status: 'ok', hung: false });
    expect(Number(vmreadz(r.vcpu, F.VM_EXIT_REASON))).toBe(C.EXIT_REASON_PREEMPTION_TIMER);
  });
});

describe('L2 on EPT12 without an EPT MMU plugin: core’s MMU translates through L1’s tables', () => {
  /** EPT12 mapping L2 page 0x300000 (code) to L1 0x300000 and L2 0x10_0000_0000 to L1 `dataL1`, 4 KiB pages. */
  function ept(r: ReturnType<typeof rig>, dataL1: bigint | null): bigint {
    const base = 0x70_0000n;
    const pml4 = base, pdpt = base + 0x1000n, pdCode = base + 0x2000n, ptCode = base + 0x3000n, pdData = base + 0x4000n, ptData = base + 0x5000n;
    const w = (at: bigint, v: bigint) => r.vcpu.write(at, leBytes(8, v));
    w(pml4, pdpt | 7n);
    w(pdpt + 0n * 8n, pdCode | 7n); // L2 0..1 GiB
    w(pdCode + 1n * 8n, ptCode | 7n); // L2 2..4 MiB
    w(ptCode + 0x100n * 8n, 0x30_0000n | 7n | (6n << 3n)); // L2 0x300000 → L1 0x300000
    w(pdpt + 64n * 8n, pdData | 7n); // L2 64 GiB
    w(pdData, ptData | 7n);
    if (dataL1 !== null) w(ptData, dataL1 | 7n | (6n << 3n));
    return pml4 | 0x5en;
  }

  it('an L2 store lands at the L1 address EPT12 names; A and D are set in the leaf', () => {
    const r = rig();
    r.nested.loadProgram(r.vm, L2_CODE, function* () {
      yield* program.store64(0x10_0000_0000n, 0xfeedn);
      yield program.vmcall();
    });
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE, eptp: ept(r, 0x50_0000n) });
    vmlaunch(r.vcpu);
    expect(Number(vmreadz(r.vcpu, F.VM_EXIT_REASON))).toBe(C.EXIT_REASON_VMCALL);
    // RIP passed MOV RDI (10 bytes), MOV RAX (10), MOV [RDI] (3) and stays on the VMCALL (3)
    expect(vmreadz(r.vcpu, F.GUEST_RIP)).toBe(L2_CODE + 23n);
    expect(vmreadz(r.vcpu, F.VM_EXIT_INSTRUCTION_LEN)).toBe(3n);
    expect(r.vm.memory.readU64(0x50_0000n)).toBe(0xfeedn);
    const leaf = r.vm.memory.readU64(0x70_5000n);
    expect(leaf & 0x300n).toBe(0x300n); // accessed (8) and dirty (9)
  });

  it('a store EPT12 does not map is an EPT violation for L1 (48, GPA, write access, nothing allowed); after L1 maps it the store is retried', () => {
    const r = rig();
    r.nested.loadProgram(r.vm, L2_CODE, function* () {
      yield* program.store64(0x10_0000_0008n, 0xabcn);
      yield program.vmcall();
    });
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE, eptp: ept(r, null) });
    vmlaunch(r.vcpu);
    expect(Number(vmreadz(r.vcpu, F.VM_EXIT_REASON))).toBe(C.EXIT_REASON_EPT_VIOLATION);
    expect(vmreadz(r.vcpu, F.GUEST_PHYSICAL_ADDRESS)).toBe(0x10_0000_0008n);
    expect(vmreadz(r.vcpu, F.EXIT_QUALIFICATION) & 0x3fn).toBe(2n); // a data write; EPT12 allowed nothing
    expect(vmreadz(r.vcpu, F.GUEST_RIP)).toBe(L2_CODE + 20n); // on the store, which runs again
    r.vcpu.write(0x70_5000n, leBytes(8, 0x60_0000n | 7n | (6n << 3n))); // L1's handler maps the page
    vmresume(r.vcpu);
    expect(Number(vmreadz(r.vcpu, F.VM_EXIT_REASON))).toBe(C.EXIT_REASON_VMCALL);
    expect(vmreadz(r.vcpu, F.GUEST_RIP)).toBe(L2_CODE + 23n);
    expect(r.vm.memory.readU64(0x60_0008n)).toBe(0xabcn);
  });

  // A JS program's RIP advances as a double while one holds it exactly: across 2^53 it must go
  // on in bigints, and past 2^64 wrap as the 64-bit register does.
  test.prop([fc.constantFrom(2n ** 53n - 25n, 2n ** 53n - 12n, 2n ** 53n - 1n, 2n ** 64n - 12n, 2n ** 64n - 1n), fc.integer({ min: 0, max: 3 })])(
    'RIP after a run of a JS program is its start plus the lengths run, modulo 2^64, also across 2^53',
    (start, works) => {
      const r = rig();
      r.nested.loadProgram(r.vm, start, function* () {
        yield program.movRdi(0x1234n); // 10 bytes
        for (let i = 0; i < works; i++) yield program.work(1); // 7 bytes each
        yield program.movRax(5n); // 10
        yield program.vmcall();
      });
      l1WithVmcs(r.vcpu, { guestRip: start });
      vmlaunch(r.vcpu);
      expect(Number(vmreadz(r.vcpu, F.VM_EXIT_REASON))).toBe(C.EXIT_REASON_VMCALL);
      expect(vmreadz(r.vcpu, F.GUEST_RIP)).toBe((start + 20n + 7n * BigInt(works)) & ((1n << 64n) - 1n));
    },
  );
});
