/**
 * JS guest programs: guest code written as a generator that yields the instructions it executes
 * (the same X86Insn values the decoder makes from machine code). The processor runs it as L2 when
 * GUEST_RIP names the address it was loaded at (`hv.nestedVmx.loadProgram(vm, gpa, program)`);
 * a load's value is the result of its `yield`, and an instruction interrupted by an exit to L1 is
 * executed again when L1 resumes L2. Memory is reached only through those instructions.
 */
import { U64_MASK } from '../../bigint.js';
import type { X86Insn } from '../isa.js';

export type GuestCode = Generator<X86Insn, void, bigint>;

/** An instruction without operands is one frozen value, made once: a store loop yields no new object per store. */
const fixed = (insn: X86Insn): (() => X86Insn) => {
  const v = Object.freeze(insn);
  return () => v;
};

export const hlt = fixed({ op: 'hlt', len: 1 });
export const vmcall = fixed({ op: 'vmcall', len: 3 });
/** An immediate as a 64-bit register holds it (one already in range is kept: no new bigint per instruction). */
const imm64 = (imm: bigint): bigint => (imm >= 0n && imm <= U64_MASK ? imm : BigInt.asUintN(64, imm));
export const movRax = (imm: bigint): X86Insn => ({ op: 'mov-rax-imm', len: 10, imm: imm64(imm) });
export const movRdi = (imm: bigint): X86Insn => ({ op: 'mov-rdi-imm', len: 10, imm: imm64(imm) });
export const movEdx = (imm: number): X86Insn => ({ op: 'mov-edx-imm', len: 5, imm: BigInt(imm >>> 0) });
export const storeRdiRax = fixed({ op: 'store-rdi-rax', len: 3 });
export const loadRaxRdi = fixed({ op: 'load-rax-rdi', len: 3 });
export const incMrdi = fixed({ op: 'inc-mrdi', len: 3 });
export const inAlDx = fixed({ op: 'in-al-dx', len: 1 });
export const outDxAl = fixed({ op: 'out-dx-al', len: 1 });
export const movCr3Rax = fixed({ op: 'mov-cr3-rax', len: 3 });
export const work = (ns: number | bigint): X86Insn => ({ op: 'work', len: 7, ns: BigInt(ns) & 0xffff_ffffn });

/** MOV RDI, gpa; MOV RAX, value; MOV [RDI], RAX. */
export function* store64(gpa: bigint, value: bigint): Generator<X86Insn, void, bigint> {
  yield movRdi(gpa);
  yield movRax(value);
  yield storeRdiRax();
}

/** MOV RDI, gpa; MOV RAX, [RDI] — returns the value. */
export function* load64(gpa: bigint): Generator<X86Insn, bigint, bigint> {
  yield movRdi(gpa);
  return yield loadRaxRdi();
}

/** MOV EDX, port; IN AL, DX (the value lands in AL, which a program does not read back here). */
export function* inb(port: number): Generator<X86Insn, void, bigint> {
  yield movEdx(port);
  yield inAlDx();
}
