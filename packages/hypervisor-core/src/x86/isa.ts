/**
 * The x86-64 instructions guest code runs on the model's processor, with their real encodings
 * (Intel SDM vol. 2), and the decoder that turns bytes at RIP into them. The same `X86Insn`
 * values come out of the decoder and out of a JS guest program (guest/program.ts), so both kinds
 * of guest code meet the processor at one boundary.
 *
 * One model convention: the long NOP `0F 1F 80 disp32` (NOP DWORD PTR [RAX+disp32]) stands for
 * a burst of ordinary work lasting disp32 ns; the processor does nothing else with it.
 */
import { readLe } from '../bigint.js';

export type X86Insn =
  | { readonly op: 'hlt'; readonly len: 1 }
  | { readonly op: 'vmcall'; readonly len: 3 }
  | { readonly op: 'mov-rax-imm'; readonly len: 10; readonly imm: bigint }
  | { readonly op: 'mov-rdi-imm'; readonly len: 10; readonly imm: bigint }
  | { readonly op: 'mov-edx-imm'; readonly len: 5; readonly imm: bigint }
  | { readonly op: 'add-rdi-imm'; readonly len: 7; readonly imm: bigint }
  | { readonly op: 'mov-cr3-rax'; readonly len: 3 }
  | { readonly op: 'store-rdi-rax'; readonly len: 3 }
  | { readonly op: 'load-rax-rdi'; readonly len: 3 }
  | { readonly op: 'inc-mrdi'; readonly len: 3 }
  | { readonly op: 'in-al-dx'; readonly len: 1 }
  | { readonly op: 'out-dx-al'; readonly len: 1 }
  | { readonly op: 'jmp'; readonly len: 5; readonly rel: bigint }
  | { readonly op: 'work'; readonly len: 7; readonly ns: bigint }
  | { readonly op: 'invalid'; readonly len: 1 };

/** Longest encoding above (MOV r64, imm64). */
export const X86_MAX_INSN_LEN = 10;

export const OPC_HLT = [0xf4] as const; // SDM vol. 2: HLT
export const OPC_VMCALL = [0x0f, 0x01, 0xc1] as const; // SDM vol. 2: VMCALL
export const OPC_MOV_RAX_IMM64 = [0x48, 0xb8] as const; // SDM vol. 2: REX.W B8+r io (RAX)
export const OPC_MOV_RDI_IMM64 = [0x48, 0xbf] as const; // SDM vol. 2: REX.W B8+r io (RDI)
export const OPC_MOV_EDX_IMM32 = [0xba] as const; // SDM vol. 2: B8+r id (EDX), zero-extends into RDX
export const OPC_ADD_RDI_IMM32 = [0x48, 0x81, 0xc7] as const; // SDM vol. 2: REX.W 81 /0 id (ModRM 11 000 111)
export const OPC_MOV_CR3_RAX = [0x0f, 0x22, 0xd8] as const; // SDM vol. 2: MOV CR3, r64 (ModRM 11 011 000)
export const OPC_MOV_MRDI_RAX = [0x48, 0x89, 0x07] as const; // SDM vol. 2: MOV r/m64, r64 (ModRM 00 000 111: [RDI], RAX)
export const OPC_MOV_RAX_MRDI = [0x48, 0x8b, 0x07] as const; // SDM vol. 2: MOV r64, r/m64 (RAX, [RDI])
export const OPC_INC_MRDI = [0x48, 0xff, 0x07] as const; // SDM vol. 2: INC r/m64 (REX.W FF /0, ModRM 00 000 111: [RDI])
export const OPC_IN_AL_DX = [0xec] as const; // SDM vol. 2: IN AL, DX
export const OPC_OUT_DX_AL = [0xee] as const; // SDM vol. 2: OUT DX, AL
export const OPC_JMP_REL32 = [0xe9] as const; // SDM vol. 2: JMP rel32
export const OPC_NOP_DISP32 = [0x0f, 0x1f, 0x80] as const; // SDM vol. 2: NOP r/m32 (ModRM 10 000 000)

const sext32 = (v: bigint): bigint => BigInt.asIntN(32, v);

/** Decodes the instruction at the start of `b` (which holds X86_MAX_INSN_LEN bytes). */
export function decodeX86(b: Uint8Array): X86Insn {
  const at = (i: number): number => b[i] ?? 0;
  switch (at(0)) {
    case 0xf4:
      return { op: 'hlt', len: 1 };
    case 0xec:
      return { op: 'in-al-dx', len: 1 };
    case 0xee:
      return { op: 'out-dx-al', len: 1 };
    case 0xba:
      return { op: 'mov-edx-imm', len: 5, imm: readLe(b, 1, 4) };
    case 0xe9:
      return { op: 'jmp', len: 5, rel: sext32(readLe(b, 1, 4)) };
    case 0x48:
      if (at(1) === 0xb8) return { op: 'mov-rax-imm', len: 10, imm: readLe(b, 2, 8) };
      if (at(1) === 0xbf) return { op: 'mov-rdi-imm', len: 10, imm: readLe(b, 2, 8) };
      if (at(1) === 0x81 && at(2) === 0xc7) return { op: 'add-rdi-imm', len: 7, imm: sext32(readLe(b, 3, 4)) };
      if (at(1) === 0x89 && at(2) === 0x07) return { op: 'store-rdi-rax', len: 3 };
      if (at(1) === 0x8b && at(2) === 0x07) return { op: 'load-rax-rdi', len: 3 };
      if (at(1) === 0xff && at(2) === 0x07) return { op: 'inc-mrdi', len: 3 };
      return { op: 'invalid', len: 1 };
    case 0x0f:
      if (at(1) === 0x01 && at(2) === 0xc1) return { op: 'vmcall', len: 3 };
      if (at(1) === 0x22 && at(2) === 0xd8) return { op: 'mov-cr3-rax', len: 3 };
      if (at(1) === 0x1f && at(2) === 0x80) return { op: 'work', len: 7, ns: readLe(b, 3, 4) };
      return { op: 'invalid', len: 1 };
    default:
      return { op: 'invalid', len: 1 };
  }
}
