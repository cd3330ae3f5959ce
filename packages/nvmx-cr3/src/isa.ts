/**
 * The few x86-64 instructions L2 subjects execute in this model, with their real encodings
 * (Intel SDM vol. 2). Shared by the guest-side assembler and the modelled processor that
 * decodes them, as an instruction set is: it is the architectural contract, not host code.
 *
 * One model convention: the long NOP `0F 1F 80 disp32` (NOP DWORD PTR [RAX+disp32]) stands
 * for a burst of ordinary work lasting disp32 ns; the processor does nothing else with it.
 */
import { readLe } from '@kvmlab/hypervisor-core';

export type L2Insn =
  | { readonly op: 'hlt'; readonly len: 1 }
  | { readonly op: 'vmcall'; readonly len: 3 }
  | { readonly op: 'mov-rax-imm'; readonly len: 10; readonly imm: bigint }
  | { readonly op: 'mov-cr3-rax'; readonly len: 3 }
  | { readonly op: 'jmp'; readonly len: 5; readonly rel: bigint }
  | { readonly op: 'work'; readonly len: 7; readonly ns: bigint }
  | { readonly op: 'invalid'; readonly len: 1 };

/** Longest encoding above (MOV RAX, imm64). */
export const L2_MAX_INSN_LEN = 10;

export const OPC_HLT = [0xf4] as const; // SDM vol. 2: HLT
export const OPC_VMCALL = [0x0f, 0x01, 0xc1] as const; // SDM vol. 2: VMCALL
export const OPC_MOV_RAX_IMM64 = [0x48, 0xb8] as const; // SDM vol. 2: REX.W B8+r io
export const OPC_MOV_CR3_RAX = [0x0f, 0x22, 0xd8] as const; // SDM vol. 2: MOV CR3, r64 (ModRM 11 011 000)
export const OPC_JMP_REL32 = [0xe9] as const; // SDM vol. 2: JMP rel32
export const OPC_NOP_DISP32 = [0x0f, 0x1f, 0x80] as const; // SDM vol. 2: NOP r/m32 (ModRM 10 000 000)

/** Decodes the instruction at the start of `b` (which holds L2_MAX_INSN_LEN bytes). */
export function decodeL2(b: Uint8Array): L2Insn {
  const at = (i: number): number => b[i] ?? 0;
  if (at(0) === 0xf4) return { op: 'hlt', len: 1 };
  if (at(0) === 0x0f && at(1) === 0x01 && at(2) === 0xc1) return { op: 'vmcall', len: 3 };
  if (at(0) === 0x48 && at(1) === 0xb8) return { op: 'mov-rax-imm', len: 10, imm: readLe(b, 2, 8) };
  if (at(0) === 0x0f && at(1) === 0x22 && at(2) === 0xd8) return { op: 'mov-cr3-rax', len: 3 };
  if (at(0) === 0xe9) return { op: 'jmp', len: 5, rel: BigInt.asIntN(32, readLe(b, 1, 4)) };
  if (at(0) === 0x0f && at(1) === 0x1f && at(2) === 0x80) return { op: 'work', len: 7, ns: readLe(b, 3, 4) };
  return { op: 'invalid', len: 1 };
}
